// The audit trail: one record per request in a SQLite file (WAL mode, synchronous=FULL),
// so a record is durable once Append() returns, even if the process is killed right after.
//
// Every write (Append, Replace) gets the next number of a sequence kept in the file
// (AuditRecord.sequence), so readers can follow the trail in write order.
//
// Thread-safe: a writing connection and a reading one, each guarded by its own mutex
// (SQLite itself is not asked to share them). In WAL mode a query reads a snapshot while
// records are appended, so audit queries never hold up the requests' writes.
#ifndef WARDEN_GATEWAY_AUDIT_STORE_H_
#define WARDEN_GATEWAY_AUDIT_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include <mutex>
#include "proto/warden.pb.h"

struct sqlite3;

namespace warden::gateway {

class AuditStore {
 public:
  // Opens (creating the file, its folder and the schema when missing) and checks that the
  // database is writable. UNAVAILABLE with SQLite's reason when it cannot.
  static absl::StatusOr<std::unique_ptr<AuditStore>> Open(const std::string& path);
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  // Commits one record. ALREADY_EXISTS when the request id is taken; UNAVAILABLE when the
  // disk is full, read-only or the file is broken (the caller fails closed).
  absl::Status Append(const v1::AuditRecord& record);

  // Commits `record` in place of the one with its request id, or as a new one when there
  // is none (a stream's final record over the one written before its first output).
  // UNAVAILABLE as Append.
  absl::Status Replace(const v1::AuditRecord& record);

  // A page of records stops before the one that would take its serialized records past
  // this many bytes (a page always holds at least one record, so paging progresses).
  // A page and its envelope stay under gRPC's default 4 MiB receive limit.
  static constexpr size_t kMaxPageBytes = (4 << 20) - (64 << 10);
  // DeleteOlderThan deletes this many records per transaction.
  static constexpr int kDeleteBatchRows = 1000;

  // Records matching the filters, newest first or, with after_sequence, in write order, with
  // keyset paging (see QueryAuditRequest): at most page_size records and kMaxPageBytes of
  // them; next_page_token continues right after the last record returned. A stored record that does not parse is skipped (one
  // stderr line with its request id), so the rest stays readable. INVALID_ARGUMENT, naming
  // the field, for unknown enum numbers, a malformed page token, or from >= to.
  absl::StatusOr<v1::QueryAuditResponse> Query(const v1::QueryAuditRequest& request);

  // NOT_FOUND when there is no record with this id; DATA_LOSS when it does not parse.
  absl::StatusOr<v1::AuditRecord> Get(const std::string& request_id);

  // Whether any record has this app id (an app removed from the configuration keeps its
  // records until retention deletes them).
  absl::StatusOr<bool> HasRecordsOfApp(const std::string& app_id);

  // Deletes records older than `cutoff_unix_micros`, kDeleteBatchRows per transaction,
  // releasing the writing connection between them (a request's write waiting for it goes
  // first), so requests' audit writes wait for at most one batch. Returns how many; on an
  // error also writes one line to stderr (the retention thread has no one to tell).
  // `stop` (may be empty) is asked between batches: true ends the pass early (shutdown
  // must not wait for millions of old records; the next pass goes on from there).
  absl::StatusOr<int64_t> DeleteOlderThan(int64_t cutoff_unix_micros, const std::function<bool()>& stop = {});

  // The sequence number of the latest write (0 before the first).
  absl::StatusOr<uint64_t> LatestSequence();

  // Number of records (for tests and metrics).
  absl::StatusOr<int64_t> Count();

 private:
  explicit AuditStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tables, indexes and write numbering, adding the numbering to a file written before
  // it (inside Open's transaction).
  absl::Status CreateSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens the reading connection (after the schema exists).
  absl::Status OpenReader(const std::string& path);
  // Runs `sql`, an INSERT of the six columns in schema order, for `record`.
  absl::Status Write(const v1::AuditRecord& record, const char* sql);
  // Query without the logging: the request ids of records skipped because they do not
  // parse go to `unreadable`.
  absl::StatusOr<v1::QueryAuditResponse> QueryPage(const v1::QueryAuditRequest& request,
                                                   std::vector<std::string>* unreadable);
  // One batch of DeleteOlderThan; returns how many records it deleted.
  absl::StatusOr<int> DeleteBatch(int64_t cutoff_unix_micros);

  std::mutex mu_;  // std::mutex: see event_queue.h (ThreadSanitizer).
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  // Writes (Append, Replace) waiting for mu_: DeleteOlderThan lets them go first.
  std::atomic<int> writers_waiting_{0};
  std::mutex read_mu_;
  sqlite3* reader_ ABSL_GUARDED_BY(read_mu_) = nullptr;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_AUDIT_STORE_H_
