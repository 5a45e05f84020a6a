#include "gateway/audit_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "google/protobuf/io/coded_stream.h"

namespace warden::gateway {
namespace {

// `seq` orders the writes (AuditRecord.sequence). Files written before it existed get the
// column added at open (kAddSequence), their records numbered in rowid order.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  request_id TEXT PRIMARY KEY,
  time_us INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  action INTEGER NOT NULL,
  categories TEXT NOT NULL,
  record BLOB NOT NULL,
  seq INTEGER
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time_us, request_id);
CREATE INDEX IF NOT EXISTS audit_by_app_time ON audit (app_id, time_us);
)sql";

constexpr const char* kAddSequence = R"sql(
ALTER TABLE audit ADD COLUMN seq INTEGER;
UPDATE audit SET seq = rowid;
)sql";

// The last sequence number given lives in its own row, not in MAX(seq): retention may
// delete every record, and numbers must never be given twice. The trigger numbers every
// inserted row (INSERT OR REPLACE included) inside the inserting statement, so a record
// and its number commit together, whoever writes the file.
constexpr const char* kSequenceSchema = R"sql(
CREATE INDEX IF NOT EXISTS audit_by_seq ON audit (seq);
CREATE TABLE IF NOT EXISTS audit_sequence (id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER NOT NULL);
INSERT OR IGNORE INTO audit_sequence (id, last) VALUES (0, (SELECT IFNULL(MAX(seq), 0) FROM audit));
CREATE TRIGGER IF NOT EXISTS audit_numbering AFTER INSERT ON audit BEGIN
  UPDATE audit_sequence SET last = last + 1 WHERE id = 0;
  UPDATE audit SET seq = (SELECT last FROM audit_sequence WHERE id = 0) WHERE rowid = NEW.rowid;
END;
)sql";

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  return absl::UnavailableError(absl::StrCat("audit store: ", what, ": ", db ? sqlite3_errmsg(db) : "no database"));
}

// The most AuditRecord.sequence adds to a record: a two-byte tag and a varint.
constexpr int kSequenceFieldBytes = 12;

// Finalizes a statement when it goes out of scope.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

// ",HATE,PII," — every category flagged or named by a rule, for LIKE filtering.
std::string CategoryList(const v1::AuditRecord& record) {
  std::string out = ",";
  auto add = [&out](v1::Category category) {
    const std::string name = absl::StrCat(v1::Category_Name(category), ",");
    if (out.find("," + name) == std::string::npos) out += name;
  };
  for (const v1::Decision* decision : {&record.input_decision(), &record.output_decision()}) {
    for (const auto& score : decision->scores()) {
      if (score.flagged()) add(score.category());
    }
    for (const auto& rule : decision->rules()) add(rule.category());
  }
  return out;
}

// Page tokens name the filters they were given for (app, action, category, request id and
// order): a token passed with other filters would silently continue an unrelated listing.
// The time range is left out: a token is a position in time order, and a client may move
// the window between pages (wardenctl's --since is now - N at each run). FNV-1a, stable
// across restarts.
std::string FilterDigest(const v1::QueryAuditRequest& request, bool write_order) {
  const std::string canonical =
      absl::StrCat(request.app_id().size(), ":", request.app_id(), "|", request.action(), "|", request.category(),
                   "|", request.request_id().size(), ":", request.request_id(), "|", write_order ? "seq" : "time");
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : canonical) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

// A non-empty run of at most 19 decimal digits (SimpleAtoi also takes " 1" and "+1").
bool ParseDigits(const std::string& text, int64_t* value) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return absl::SimpleAtoi(text, value);
}

// Reads a page token of QueryPage ("<time_us>:<digest>:<request_id>" newest first,
// "seq:<digest>:<sequence>" in write order; `digest` is the query's FilterDigest) into the
// position after which the page starts.
absl::Status ParsePageToken(const v1::QueryAuditRequest& request, bool write_order, const std::string& digest,
                            int64_t* after_time, std::string* after_id, uint64_t* after_sequence) {
  const std::vector<std::string> parts = absl::StrSplit(request.page_token(), absl::MaxSplits(':', 2));
  int64_t number = 0;
  const bool valid = parts.size() == 3 && (write_order ? parts[0] == "seq" && ParseDigits(parts[2], &number)
                                                       : ParseDigits(parts[0], &number));
  if (!valid) return absl::InvalidArgumentError("invalid page_token (pass next_page_token as it was returned)");
  if (parts[1] != digest) {
    return absl::InvalidArgumentError(
        "page_token belongs to a query with other filters (app_id, action, category, request_id or order): pass "
        "the same filters, or start again without a token");
  }
  if (write_order) {
    *after_sequence = static_cast<uint64_t>(number);
  } else {
    *after_time = number;
    *after_id = parts[2];
  }
  return absl::OkStatus();
}

// Why `path` cannot serve as the audit trail, in an operator's terms, from SQLite's last
// error on `db` (read right after the failing call, before a ROLLBACK clears it). The
// statement that failed is left out: it says nothing to an operator (the schema is nine
// lines of SQL).
absl::Status OpenError(sqlite3* db, const std::string& path) {
  const int code = db != nullptr ? sqlite3_errcode(db) : SQLITE_CANTOPEN;
  const std::string reason = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  std::string advice;
  switch (code) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      advice = "not an SQLite database, or a damaged one: move it away or point audit.path at another file";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      advice = "the server must be able to write the file and its folder, where SQLite adds -wal and -shm files";
      break;
    case SQLITE_CANTOPEN:
      advice = "check that the file and its folder can be written";
      break;
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat("audit store: audit.path ", path, ": ", reason,
                                             advice.empty() ? "" : absl::StrCat(" (", advice, ")")));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditStore>> AuditStore::Open(const std::string& path) {
  std::error_code error;
  const auto folder = std::filesystem::path(path).parent_path();
  if (!folder.empty() && !std::filesystem::create_directories(folder, error) && error) {
    return absl::UnavailableError(absl::StrCat("audit store: audit.path ", path, ": cannot create its folder ",
                                               folder.string(), ": ", error.message()));
  }
  if (std::filesystem::is_directory(path, error)) {
    return absl::UnavailableError(
        absl::StrCat("audit store: audit.path ", path, " is a directory; name the database file (e.g. ", path,
                     "/warden-audit.db)"));
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const absl::Status status = OpenError(db, path);
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<AuditStore> store(new AuditStore(db));
  std::lock_guard<std::mutex> lock(store->mu_);
  const auto step = [&](absl::Status status) { return status.ok() ? status : OpenError(db, path); };
  RETURN_IF_ERROR(step(store->Exec("PRAGMA journal_mode=WAL")));
  RETURN_IF_ERROR(step(store->Exec("PRAGMA synchronous=FULL")));
  RETURN_IF_ERROR(step(store->Exec("BEGIN IMMEDIATE")));
  const absl::Status schema = step(store->CreateSchema());
  RETURN_IF_ERROR(step(store->Exec(schema.ok() ? "COMMIT" : "ROLLBACK")));
  RETURN_IF_ERROR(schema);
  // Prove the file is writable now rather than under traffic.
  RETURN_IF_ERROR(step(store->Exec("BEGIN IMMEDIATE; COMMIT")));
  RETURN_IF_ERROR(store->OpenReader(path));
  return store;
}

absl::Status AuditStore::CreateSchema() {
  RETURN_IF_ERROR(Exec(kSchema));
  Statement probe;
  if (sqlite3_prepare_v2(db_, "SELECT seq FROM audit LIMIT 0", -1, &probe.stmt, nullptr) != SQLITE_OK) {
    RETURN_IF_ERROR(Exec(kAddSequence));
  }
  return Exec(kSequenceSchema);
}

absl::Status AuditStore::OpenReader(const std::string& path) {
  std::lock_guard<std::mutex> lock(read_mu_);
  if (sqlite3_open_v2(path.c_str(), &reader_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    return SqliteError(reader_, absl::StrCat("cannot open ", path, " for reading"));
  }
  sqlite3_busy_timeout(reader_, 5000);
  return absl::OkStatus();
}

AuditStore::~AuditStore() {
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    sqlite3_close(reader_);
  }
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_close(db_);
}

absl::Status AuditStore::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const absl::Status status =
        absl::UnavailableError(absl::StrCat("audit store: ", message ? message : "error", " (", sql, ")"));
    sqlite3_free(message);
    return status;
  }
  return absl::OkStatus();
}

absl::Status AuditStore::Append(const v1::AuditRecord& record) {
  return Write(record,
               "INSERT INTO audit (request_id, time_us, app_id, action, categories, record) VALUES (?, ?, ?, ?, ?, ?)");
}

absl::Status AuditStore::Replace(const v1::AuditRecord& record) {
  return Write(record,
               "INSERT OR REPLACE INTO audit (request_id, time_us, app_id, action, categories, record) "
               "VALUES (?, ?, ?, ?, ?, ?)");
}

absl::Status AuditStore::Write(const v1::AuditRecord& record, const char* sql) {
  std::string blob;
  // The store numbers records itself; a sequence set by the caller is not stored.
  const bool serialized = record.sequence() == 0 ? record.SerializeToString(&blob) : [&record, &blob] {
    v1::AuditRecord unnumbered = record;
    unnumbered.clear_sequence();
    return unnumbered.SerializeToString(&blob);
  }();
  if (!serialized) return absl::InternalError("audit store: cannot serialize record");
  const std::string categories = CategoryList(record);
  ++writers_waiting_;
  std::lock_guard<std::mutex> lock(mu_);
  --writers_waiting_;
  Statement s;
  if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK) return SqliteError(db_, "prepare insert");
  sqlite3_bind_text(s.stmt, 1, record.request_id().data(), record.request_id().size(), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 2, record.time_unix_micros());
  sqlite3_bind_text(s.stmt, 3, record.app_id().data(), record.app_id().size(), SQLITE_TRANSIENT);
  sqlite3_bind_int(s.stmt, 4, record.action());
  sqlite3_bind_text(s.stmt, 5, categories.data(), categories.size(), SQLITE_TRANSIENT);
  sqlite3_bind_blob(s.stmt, 6, blob.data(), blob.size(), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_CONSTRAINT) {
    return absl::AlreadyExistsError(absl::StrCat("audit record ", record.request_id(), " exists"));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "insert");
  return absl::OkStatus();
}

absl::StatusOr<v1::QueryAuditResponse> AuditStore::Query(const v1::QueryAuditRequest& request) {
  std::vector<std::string> unreadable;
  // A page whose rows were all unreadable would be empty yet carry a token (a client that
  // stops at an empty page would miss the rest): read on until a page holds a record or the
  // records end, within a bound.
  constexpr int kMaxEmptyPages = 64;
  v1::QueryAuditRequest next = request;
  absl::StatusOr<v1::QueryAuditResponse> response = QueryPage(next, &unreadable);
  for (int empty = 0; empty < kMaxEmptyPages && response.ok() && response->records_size() == 0 &&
                      !response->next_page_token().empty();
       ++empty) {
    next.set_page_token(response->next_page_token());
    response = QueryPage(next, &unreadable);
  }
  for (const std::string& id : unreadable) {
    std::cerr << absl::StrCat("warden: audit store: record ", absl::CHexEscape(id),
                              " does not parse; an audit query skipped it\n");
  }
  return response;
}

absl::StatusOr<v1::QueryAuditResponse> AuditStore::QueryPage(const v1::QueryAuditRequest& request,
                                                             std::vector<std::string>* unreadable) {
  // Proto3 enums keep unknown numbers: a filter no record can match is a malformed query.
  if (!v1::Action_IsValid(request.action())) {
    return absl::InvalidArgumentError(absl::StrCat("action ", request.action(), " is not a known Action"));
  }
  if (!v1::Category_IsValid(request.category())) {
    return absl::InvalidArgumentError(absl::StrCat("category ", request.category(), " is not a known Category"));
  }
  // So is an empty time range: it would look like "no records in that period".
  if (request.from_unix_micros() != 0 && request.to_unix_micros() != 0 &&
      request.from_unix_micros() >= request.to_unix_micros()) {
    return absl::InvalidArgumentError(absl::StrCat("from_unix_micros ", request.from_unix_micros(),
                                                   " is not before to_unix_micros ", request.to_unix_micros()));
  }
  const int64_t page_size = request.page_size() == 0 ? 50 : std::min<uint32_t>(request.page_size(), 1000);
  const bool write_order = request.has_after_sequence();
  // Page token: the last record of the previous page (ParsePageToken).
  int64_t after_time = 0;
  std::string after_id;
  uint64_t after_sequence = request.after_sequence();
  const std::string digest = FilterDigest(request, write_order);
  if (!request.page_token().empty()) {
    RETURN_IF_ERROR(ParsePageToken(request, write_order, digest, &after_time, &after_id, &after_sequence));
  }
  if (after_sequence > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat("after_sequence ", after_sequence, " is out of range"));
  }
  uint64_t latest_sequence = 0;
  if (!write_order) {
    // Read before the page: a record written in between is on both sides, never on neither.
    ASSIGN_OR_RETURN(latest_sequence, LatestSequence());
  }
  std::string sql = "SELECT record, time_us, request_id, seq FROM audit WHERE 1=1";
  if (!request.app_id().empty()) sql += " AND app_id = ?1";
  if (request.from_unix_micros() != 0) sql += " AND time_us >= ?2";
  if (request.to_unix_micros() != 0) sql += " AND time_us < ?3";
  if (request.action() != v1::ACTION_UNSPECIFIED) sql += " AND action = ?4";
  if (request.category() != v1::CATEGORY_UNSPECIFIED) sql += " AND categories LIKE ?5";
  if (!request.request_id().empty()) sql += " AND request_id = ?6";
  if (write_order) {
    sql += " AND seq > ?10 ORDER BY seq ASC LIMIT ?9";
  } else {
    if (!request.page_token().empty()) sql += " AND (time_us < ?7 OR (time_us = ?7 AND request_id < ?8))";
    sql += " ORDER BY time_us DESC, request_id DESC LIMIT ?9";
  }

  const std::string category_pattern = absl::StrCat("%,", v1::Category_Name(request.category()), ",%");
  std::lock_guard<std::mutex> lock(read_mu_);
  Statement s;
  if (sqlite3_prepare_v2(reader_, sql.c_str(), -1, &s.stmt, nullptr) != SQLITE_OK) {
    return SqliteError(reader_, "prepare query");
  }
  const int64_t row_limit = page_size + 1;  // One more tells whether there is a next page.
  sqlite3_bind_text(s.stmt, 1, request.app_id().data(), request.app_id().size(), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 2, request.from_unix_micros());
  sqlite3_bind_int64(s.stmt, 3, request.to_unix_micros());
  sqlite3_bind_int(s.stmt, 4, request.action());
  sqlite3_bind_text(s.stmt, 5, category_pattern.data(), category_pattern.size(), SQLITE_TRANSIENT);
  sqlite3_bind_text(s.stmt, 6, request.request_id().data(), request.request_id().size(), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 7, after_time);
  sqlite3_bind_text(s.stmt, 8, after_id.data(), after_id.size(), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.stmt, 9, row_limit);
  sqlite3_bind_int64(s.stmt, 10, static_cast<int64_t>(after_sequence));
  v1::QueryAuditResponse response;
  response.set_next_after_sequence(write_order ? after_sequence : latest_sequence);
  std::string last_token;  // Of the last row taken (returned or skipped).
  size_t page_bytes = 0;   // The records' share of the serialized response.
  int64_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    ++rows;
    const void* blob = sqlite3_column_blob(s.stmt, 0);
    const int size = sqlite3_column_bytes(s.stmt, 0);
    // Field tag, length and the record, as the response serializes it (with its sequence).
    const int stored_size = size + kSequenceFieldBytes;
    const size_t record_bytes =
        1 + google::protobuf::io::CodedOutputStream::VarintSize32(stored_size) + stored_size;
    if (response.records_size() == page_size ||
        (response.records_size() > 0 && page_bytes + record_bytes > kMaxPageBytes)) {
      response.set_next_page_token(last_token);
      break;
    }
    const char* id = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 2));
    const int64_t sequence = sqlite3_column_int64(s.stmt, 3);
    last_token = write_order ? absl::StrCat("seq:", digest, ":", sequence)
                             : absl::StrCat(sqlite3_column_int64(s.stmt, 1), ":", digest, ":", id == nullptr ? "" : id);
    if (write_order) response.set_next_after_sequence(static_cast<uint64_t>(sequence));
    v1::AuditRecord* record = response.add_records();
    if (record->ParseFromArray(blob, size)) {
      record->set_sequence(static_cast<uint64_t>(sequence));
      page_bytes += record_bytes;
    } else {
      response.mutable_records()->RemoveLast();
      unreadable->push_back(id == nullptr ? "" : id);
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(reader_, "query");
  // Every row the limit allowed was taken, some skipped: the next page starts after them.
  if (rc == SQLITE_DONE && rows == row_limit) response.set_next_page_token(last_token);
  return response;
}

absl::StatusOr<v1::AuditRecord> AuditStore::Get(const std::string& request_id) {
  v1::QueryAuditRequest request;
  request.set_request_id(request_id);
  request.set_page_size(1);
  std::vector<std::string> unreadable;
  ASSIGN_OR_RETURN(v1::QueryAuditResponse response, QueryPage(request, &unreadable));
  if (!unreadable.empty()) {
    return absl::DataLossError(absl::StrCat("audit store: the stored record ", request_id, " does not parse"));
  }
  if (response.records_size() == 0) return absl::NotFoundError(absl::StrCat("no audit record ", request_id));
  return response.records(0);
}

absl::StatusOr<bool> AuditStore::HasRecordsOfApp(const std::string& app_id) {
  std::lock_guard<std::mutex> lock(read_mu_);
  Statement s;
  if (sqlite3_prepare_v2(reader_, "SELECT 1 FROM audit WHERE app_id = ? LIMIT 1", -1, &s.stmt, nullptr) !=
      SQLITE_OK) {
    return SqliteError(reader_, "prepare app lookup");
  }
  sqlite3_bind_text(s.stmt, 1, app_id.data(), app_id.size(), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(reader_, "app lookup");
  return rc == SQLITE_ROW;
}

absl::StatusOr<int> AuditStore::DeleteBatch(int64_t cutoff_unix_micros) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s;
  if (sqlite3_prepare_v2(db_,
                         "DELETE FROM audit WHERE rowid IN "
                         "(SELECT rowid FROM audit WHERE time_us < ?1 LIMIT ?2)",
                         -1, &s.stmt, nullptr) != SQLITE_OK) {
    return SqliteError(db_, "prepare delete");
  }
  sqlite3_bind_int64(s.stmt, 1, cutoff_unix_micros);
  sqlite3_bind_int(s.stmt, 2, kDeleteBatchRows);
  if (sqlite3_step(s.stmt) != SQLITE_DONE) return SqliteError(db_, "delete");
  return sqlite3_changes(db_);
}

absl::StatusOr<int64_t> AuditStore::DeleteOlderThan(int64_t cutoff_unix_micros, const std::function<bool()>& stop) {
  int64_t deleted = 0;
  for (;;) {
    const absl::StatusOr<int> batch = DeleteBatch(cutoff_unix_micros);
    if (!batch.ok()) {
      std::cerr << absl::StrCat("warden: audit retention: deleting records older than ",
                                absl::FormatTime(absl::FromUnixMicros(cutoff_unix_micros), absl::UTCTimeZone()),
                                " failed after ", deleted, " deleted: ", batch.status().message(), "\n");
      return batch.status();
    }
    deleted += *batch;
    if (*batch < kDeleteBatchRows || (stop && stop())) return deleted;
    // Requests' writes waiting for the connection go first (std::mutex would let this
    // thread take it straight back); a bounded wait, so retention progresses under load.
    const absl::Time give_up = absl::Now() + absl::Milliseconds(50);
    while (writers_waiting_.load() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Microseconds(100));
  }
}

absl::StatusOr<uint64_t> AuditStore::LatestSequence() {
  std::lock_guard<std::mutex> lock(read_mu_);
  Statement s;
  if (sqlite3_prepare_v2(reader_, "SELECT last FROM audit_sequence WHERE id = 0", -1, &s.stmt, nullptr) !=
      SQLITE_OK) {
    return SqliteError(reader_, "prepare sequence");
  }
  const int rc = sqlite3_step(s.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(reader_, "sequence");
  return rc == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(s.stmt, 0)) : 0;
}

absl::StatusOr<int64_t> AuditStore::Count() {
  std::lock_guard<std::mutex> lock(read_mu_);
  Statement s;
  if (sqlite3_prepare_v2(reader_, "SELECT COUNT(*) FROM audit", -1, &s.stmt, nullptr) != SQLITE_OK) {
    return SqliteError(reader_, "prepare count");
  }
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return SqliteError(reader_, "count");
  return static_cast<int64_t>(sqlite3_column_int64(s.stmt, 0));
}

}  // namespace warden::gateway
