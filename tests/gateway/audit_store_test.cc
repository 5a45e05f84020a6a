#include "gateway/audit_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace warden::gateway {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

v1::AuditRecord Record(const std::string& id, int64_t time, const std::string& app, v1::Action action) {
  v1::AuditRecord record;
  record.set_request_id(id);
  record.set_time_unix_micros(time);
  record.set_app_id(app);
  record.set_action(action);
  return record;
}

// Runs `sql` on the audit file through a second connection, as another process could.
void ExecDirectly(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// Request ids of every page of `request` in order; false when a query fails.
bool QueryAllPages(AuditStore& store, v1::QueryAuditRequest request, std::vector<std::string>* ids,
                   std::vector<v1::QueryAuditResponse>* pages = nullptr) {
  for (int i = 0; i < 1000; ++i) {
    auto response = store.Query(request);
    if (!response.ok()) {
      ADD_FAILURE() << response.status();
      return false;
    }
    for (const auto& record : response->records()) ids->push_back(record.request_id());
    if (pages != nullptr) pages->push_back(*response);
    if (response->next_page_token().empty()) return true;
    request.set_page_token(response->next_page_token());
  }
  ADD_FAILURE() << "paging does not end";
  return false;
}

TEST(AuditStore, AppendedRecordsAreQueryableByEveryFilter) {
  auto store = AuditStore::Open(TempPath("filters/audit.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append(Record("r1", 100, "a", v1::ALLOW)).ok());
  auto blocked = Record("r2", 200, "b", v1::BLOCK);
  auto* score = blocked.mutable_input_decision()->add_scores();
  score->set_category(v1::HATE);
  score->set_flagged(true);
  ASSERT_TRUE((*store)->Append(blocked).ok());
  ASSERT_TRUE((*store)->Append(Record("r3", 300, "a", v1::REDACT)).ok());

  v1::QueryAuditRequest by_app;
  by_app.set_app_id("a");
  auto response = (*store)->Query(by_app);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->records_size(), 2);
  EXPECT_EQ(response->records(0).request_id(), "r3");  // Newest first.

  v1::QueryAuditRequest by_category;
  by_category.set_category(v1::HATE);
  response = (*store)->Query(by_category);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->records_size(), 1);
  EXPECT_EQ(response->records(0).request_id(), "r2");

  v1::QueryAuditRequest by_time_and_action;
  by_time_and_action.set_from_unix_micros(150);
  by_time_and_action.set_action(v1::REDACT);
  response = (*store)->Query(by_time_and_action);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->records_size(), 1);
  EXPECT_EQ(response->records(0).request_id(), "r3");

  auto one = (*store)->Get("r2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->action(), v1::BLOCK);
  EXPECT_EQ((*store)->Get("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->Append(Record("r1", 1, "a", v1::ALLOW)).code(), absl::StatusCode::kAlreadyExists);
}

// Queries read on their own connection: records appended meanwhile are neither held up
// nor refused, and each is visible to the next query once Append returned.
TEST(AuditStore, QueriesRunWhileRecordsAreAppended) {
  const std::string path = TempPath("concurrent/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::atomic<bool> done{false};
  std::atomic<int> query_failures{0};
  std::thread reader([&] {
    v1::QueryAuditRequest all;
    all.set_page_size(1000);
    while (!done) {
      if (!(*store)->Query(all).ok()) ++query_failures;
    }
  });
  for (int i = 0; i < 300; ++i) {
    const std::string id = "c" + std::to_string(i);
    ASSERT_TRUE((*store)->Append(Record(id, 1000 + i, "a", v1::ALLOW)).ok()) << i;
    ASSERT_TRUE((*store)->Get(id).ok()) << i;
  }
  done = true;
  reader.join();
  EXPECT_EQ(query_failures, 0);
  EXPECT_EQ(*(*store)->Count(), 300);
}

TEST(AuditStore, PagesCoverEveryRecordExactlyOnce) {
  auto store = AuditStore::Open(TempPath("paging.db"));
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE((*store)->Append(Record("id" + std::to_string(i), 1000 + i / 3, "a", v1::ALLOW)).ok());
  }
  std::set<std::string> seen;
  v1::QueryAuditRequest request;
  request.set_page_size(4);
  int pages = 0;
  do {
    auto response = (*store)->Query(request);
    ASSERT_TRUE(response.ok());
    for (const auto& record : response->records()) EXPECT_TRUE(seen.insert(record.request_id()).second);
    request.set_page_token(response->next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 100);
  EXPECT_EQ(seen.size(), 25u);
  request.set_page_token("garbage");
  EXPECT_EQ((*store)->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
}

// A page token continues the query it came from: with other filters (or order) it is
// refused, not read as a position in an unrelated listing; a token edited by hand is
// refused too (numbers are plain digits: no sign, no space, no trailing parts).
TEST(AuditStore, PageTokenIsBoundToItsQueryAndParsedStrictly) {
  const std::string path = TempPath("token_binding/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE((*store)->Append(Record("id" + std::to_string(i), 1000 + i, i % 2 ? "a" : "b", v1::ALLOW)).ok());
  }
  v1::QueryAuditRequest request;
  request.set_app_id("a");
  request.set_page_size(1);
  auto first = (*store)->Query(request);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string token = first->next_page_token();
  ASSERT_FALSE(token.empty());
  request.set_page_token(token);
  request.set_page_size(2);  // the page size may change between pages
  auto second = (*store)->Query(request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->records_size(), 2);
  EXPECT_EQ(second->records(0).request_id(), "id3");

  v1::QueryAuditRequest other = request;
  other.set_app_id("b");
  auto refused = (*store)->Query(other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "other filters")) << refused.status();
  other = request;
  other.set_action(v1::BLOCK);
  EXPECT_EQ((*store)->Query(other).status().code(), absl::StatusCode::kInvalidArgument);
  // The time window may move between pages (wardenctl --since N is now - N at each run).
  other = request;
  other.set_from_unix_micros(1);
  other.set_to_unix_micros(1'000'000);
  auto moved = (*store)->Query(other);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->records(0).request_id(), "id3");
  other = request;
  other.set_after_sequence(0);  // write order
  EXPECT_EQ((*store)->Query(other).status().code(), absl::StatusCode::kInvalidArgument);

  const size_t colon = token.find(':');
  for (const std::string& edited : {" " + token, "+" + token, "-" + token, token.substr(colon + 1),
                                    token.substr(0, colon) + "::id1", "99999999999999999999" + token.substr(colon)}) {
    request.set_page_token(edited);
    EXPECT_EQ((*store)->Query(request).status().code(), absl::StatusCode::kInvalidArgument) << edited;
  }
}

TEST(AuditStore, QueryWithUnknownEnumNumbersIsInvalidArgumentNamingTheField) {
  auto store = AuditStore::Open(TempPath("enums/audit.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  v1::QueryAuditRequest by_action;
  by_action.set_action(static_cast<v1::Action>(99));
  auto response = (*store)->Query(by_action);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("action 99"), std::string::npos) << response.status();
  v1::QueryAuditRequest by_category;
  by_category.set_category(static_cast<v1::Category>(-1));
  response = (*store)->Query(by_category);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("category -1"), std::string::npos) << response.status();
}

TEST(AuditStore, RecordsSurviveReopenAndRetentionDeletesOldOnes) {
  const std::string path = TempPath("reopen.db");
  {
    auto store = AuditStore::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Append(Record("old", 10, "a", v1::ALLOW)).ok());
    ASSERT_TRUE((*store)->Append(Record("new", 1000, "a", v1::ALLOW)).ok());
  }
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->Count(), 2);
  EXPECT_EQ(*(*store)->DeleteOlderThan(500), 1);
  EXPECT_EQ(*(*store)->Count(), 1);
}

// A page ends at kMaxPageBytes of records (one bigger record alone on its page), and the
// pages together still hold every record once, newest first: one page of 1,000 records
// of up to 63 MiB each would be gigabytes, and over the client's message limit.
TEST(AuditStore, LargeRecordsArePagedWithinTheByteBudget) {
  const std::string path = TempPath("budget/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<std::string> want;  // Newest first.
  for (int i = 0; i < 30; ++i) {
    // Three records share each time: the keyset token orders them by request id.
    auto record = Record("big" + std::to_string(100 + i), 1000 + i / 3, "a", v1::ALLOW);
    const size_t size = i == 17 ? AuditStore::kMaxPageBytes + (1 << 20) : 400'000 + 50'000 * (i % 5);
    record.set_input_content(std::string(size, static_cast<char>('a' + i % 26)));
    record.set_output_content(std::string(size / 2, 'o'));
    ASSERT_TRUE((*store)->Append(record).ok()) << i;
    want.push_back(record.request_id());
  }
  std::reverse(want.begin(), want.end());
  v1::QueryAuditRequest request;
  request.set_page_size(1000);
  std::vector<std::string> ids;
  std::vector<v1::QueryAuditResponse> pages;
  ASSERT_TRUE(QueryAllPages(**store, request, &ids, &pages));
  EXPECT_EQ(ids, want);
  EXPECT_GT(pages.size(), 5u);
  bool alone = false;
  for (v1::QueryAuditResponse page : pages) {
    ASSERT_GE(page.records_size(), 1);
    page.clear_next_page_token();
    if (page.records_size() == 1 && page.records(0).request_id() == "big117") alone = true;
    if (page.records_size() > 1) {
      EXPECT_LE(page.ByteSizeLong(), AuditStore::kMaxPageBytes);
    }
  }
  EXPECT_TRUE(alone) << "the record over the budget has a page of its own";
  // page_size still applies below the budget.
  request.set_page_size(2);
  auto first = (*store)->Query(request);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->records_size(), 2);
  EXPECT_FALSE(first->next_page_token().empty());
}

// A record that does not parse is skipped (its id on stderr), not DATA_LOSS for every page
// holding it; paging still covers the others once. Get names it.
TEST(AuditStore, UnparsableRecordIsSkippedAndTheRestStayReadable) {
  const std::string path = TempPath("unparsable/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE((*store)->Append(Record("r" + std::to_string(i), 100 * i, "a", v1::ALLOW)).ok());
  }
  ExecDirectly(path, "UPDATE audit SET record = X'FFFFFFFF' WHERE request_id = 'r3'");
  for (const uint32_t page_size : {1u, 2u, 3u, 50u}) {
    v1::QueryAuditRequest request;
    request.set_page_size(page_size);
    std::vector<std::string> ids;
    testing::internal::CaptureStderr();
    const bool ok = QueryAllPages(**store, request, &ids);
    const std::string log = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(ok) << "page_size " << page_size;
    EXPECT_EQ(ids, (std::vector<std::string>{"r5", "r4", "r2", "r1"})) << "page_size " << page_size;
    EXPECT_NE(log.find("record r3 does not parse"), std::string::npos) << log;
  }
  EXPECT_EQ((*store)->Get("r3").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE((*store)->Get("r4").ok());
}

// Pages never come back empty with a token: a run of unreadable records longer than a page
// is read past, and the last page has no token.
TEST(AuditStore, NoPageIsEmptyWhileRecordsRemain) {
  const std::string path = TempPath("unreadable_run/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 1; i <= 9; ++i) {
    ASSERT_TRUE((*store)->Append(Record("r" + std::to_string(i), 100 * i, "a", v1::ALLOW)).ok());
  }
  // r8..r3 unreadable (newest first: r9, then six unreadable, then r2, r1).
  ExecDirectly(path, "UPDATE audit SET record = X'FFFFFFFF' WHERE time_us BETWEEN 300 AND 800");
  v1::QueryAuditRequest request;
  request.set_page_size(2);
  std::vector<std::string> ids;
  testing::internal::CaptureStderr();
  for (int page = 0; page < 10; ++page) {
    auto response = (*store)->Query(request);
    ASSERT_TRUE(response.ok()) << response.status();
    if (response->next_page_token().empty()) {
      for (const auto& record : response->records()) ids.push_back(record.request_id());
      break;
    }
    ASSERT_GT(response->records_size(), 0) << "page " << page << " is empty but has a token";
    for (const auto& record : response->records()) ids.push_back(record.request_id());
    request.set_page_token(response->next_page_token());
  }
  (void)testing::internal::GetCapturedStderr();
  EXPECT_EQ(ids, (std::vector<std::string>{"r9", "r2", "r1"}));
}

TEST(AuditStore, EmptyTimeRangeIsInvalidArgumentNamingTheFields) {
  auto store = AuditStore::Open(TempPath("range/audit.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append(Record("r", 150, "a", v1::ALLOW)).ok());
  for (const int64_t to : {100, 200}) {
    v1::QueryAuditRequest request;
    request.set_from_unix_micros(200);
    request.set_to_unix_micros(to);
    auto response = (*store)->Query(request);
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << to;
    EXPECT_NE(response.status().message().find("from_unix_micros"), std::string::npos) << response.status();
    EXPECT_NE(response.status().message().find("to_unix_micros"), std::string::npos) << response.status();
  }
  v1::QueryAuditRequest open_ended;  // A bound alone is fine.
  open_ended.set_from_unix_micros(100);
  auto response = (*store)->Query(open_ended);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), 1);
  open_ended.set_to_unix_micros(151);
  response = (*store)->Query(open_ended);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), 1);
  EXPECT_TRUE(*(*store)->HasRecordsOfApp("a"));
  EXPECT_FALSE(*(*store)->HasRecordsOfApp("A"));
}

// Retention deletes in batches and lets requests' writes in between: an Append issued
// while it runs returns before it ends (one unbounded DELETE held the writing connection
// throughout). Every old record goes, the newer ones stay.
TEST(AuditStore, RetentionDeletesInBatchesLettingWritesIn) {
  const std::string path = TempPath("retention/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kOld = 30 * AuditStore::kDeleteBatchRows + 7;
  ExecDirectly(path, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                         std::to_string(kOld - 1) +
                         ") INSERT INTO audit (request_id, time_us, app_id, action, categories, record) SELECT 'old' || i, 10 + i, 'a', 1, ',', X'' FROM n");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*store)->Append(Record("new" + std::to_string(i), 1'000'000 + i, "a", v1::ALLOW)).ok());
  }
  ASSERT_EQ(*(*store)->Count(), kOld + 3);
  std::atomic<bool> done{false};
  absl::StatusOr<int64_t> deleted;
  std::thread retention([&] {
    deleted = (*store)->DeleteOlderThan(500'000);
    done = true;
  });
  // Once a first batch is committed, a request's write gets in before the rest.
  while (!done && *(*store)->Count() == kOld + 3) std::this_thread::yield();
  ASSERT_TRUE((*store)->Append(Record("during", 2'000'000, "a", v1::ALLOW)).ok());
  EXPECT_FALSE(done) << "the write waited for the whole deletion";
  retention.join();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, kOld);
  EXPECT_EQ(*(*store)->Count(), 4);
  v1::QueryAuditRequest all;
  std::vector<std::string> ids;
  ASSERT_TRUE(QueryAllPages(**store, all, &ids));
  EXPECT_EQ(ids, (std::vector<std::string>{"during", "new2", "new1", "new0"}));
  EXPECT_EQ(*(*store)->DeleteOlderThan(500'000), 0);
}

// Shutdown asks the pass to stop: it ends after the batch in progress, and the next pass
// deletes the rest.
TEST(AuditStore, RetentionPassStopsBetweenBatchesWhenAsked) {
  const std::string path = TempPath("retention_stop/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kOld = 5 * AuditStore::kDeleteBatchRows;
  ExecDirectly(path, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                         std::to_string(kOld - 1) +
                         ") INSERT INTO audit (request_id, time_us, app_id, action, categories, record) SELECT 'old' || i, 10 + i, 'a', 1, ',', X'' FROM n");
  int asked = 0;
  auto first = (*store)->DeleteOlderThan(500'000, [&] { return ++asked == 2; });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 2 * AuditStore::kDeleteBatchRows);
  EXPECT_EQ(*(*store)->Count(), kOld - 2 * AuditStore::kDeleteBatchRows);
  EXPECT_EQ(*(*store)->DeleteOlderThan(500'000), kOld - 2 * AuditStore::kDeleteBatchRows);
  EXPECT_EQ(*(*store)->Count(), 0);
}

// The retention thread drops the status: the store says it on stderr, once.
TEST(AuditStore, RetentionFailureWritesOneStderrLine) {
  const std::string path = TempPath("retention_failure/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append(Record("old", 10, "a", v1::ALLOW)).ok());
  ExecDirectly(path,
               "CREATE TRIGGER refuse BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'no deletes (test)'); END;");
  testing::internal::CaptureStderr();
  const auto deleted = (*store)->DeleteOlderThan(500);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kUnavailable) << deleted.status();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("audit retention"), std::string::npos) << log;
  EXPECT_NE(log.find("no deletes (test)"), std::string::npos) << log;
  EXPECT_EQ(*(*store)->Count(), 1);
}

// Follows the trail from `after` in write order, `page_size` records per query, until a
// query brings nothing new; the request ids in the order read. `after` ends at the last
// next_after_sequence.
std::vector<std::string> Follow(AuditStore& store, uint64_t* after, uint32_t page_size,
                                std::vector<uint64_t>* sequences = nullptr) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    v1::QueryAuditRequest request;
    request.set_after_sequence(*after);
    request.set_page_size(page_size);
    auto response = store.Query(request);
    if (!response.ok()) {
      ADD_FAILURE() << response.status();
      return ids;
    }
    for (const auto& record : response->records()) {
      ids.push_back(record.request_id());
      if (sequences != nullptr) sequences->push_back(record.sequence());
    }
    EXPECT_GE(response->next_after_sequence(), *after);
    if (response->next_after_sequence() == *after) return ids;
    *after = response->next_after_sequence();
  }
  ADD_FAILURE() << "following does not end";
  return ids;
}

// A call that started before an export's time range ended but was written after it is
// missed by exports by time; following by sequence sees every write once, in write order,
// and a stream's final record (written over its IN_PROGRESS one) again when it changes.
TEST(AuditStore, FollowingBySequenceSeesEveryWriteInWriteOrder) {
  const std::string path = TempPath("follow/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  uint64_t after = 0;
  EXPECT_TRUE(Follow(**store, &after, 2).empty());
  EXPECT_EQ(after, 0u);
  v1::AuditRecord stream = Record("stream", 100, "a", v1::ALLOW);
  stream.set_status("IN_PROGRESS");
  ASSERT_TRUE((*store)->Append(stream).ok());
  ASSERT_TRUE((*store)->Append(Record("quick", 300, "a", v1::ALLOW)).ok());
  EXPECT_EQ(Follow(**store, &after, 2), (std::vector<std::string>{"stream", "quick"}));
  // Written now, started long before "quick": an export of times >= 300 would miss it.
  ASSERT_TRUE((*store)->Append(Record("slow", 200, "a", v1::BLOCK)).ok());
  stream.set_status("OK");
  ASSERT_TRUE((*store)->Replace(stream).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*store)->Append(Record("late" + std::to_string(i), 400 + i, "b", v1::ALLOW)).ok());
  }
  std::vector<uint64_t> sequences;
  EXPECT_EQ(Follow(**store, &after, 2, &sequences),
            (std::vector<std::string>{"slow", "stream", "late0", "late1", "late2", "late3", "late4"}));
  ASSERT_EQ(sequences.size(), 7u);
  EXPECT_TRUE(std::is_sorted(sequences.begin(), sequences.end()));
  EXPECT_EQ(std::adjacent_find(sequences.begin(), sequences.end()), sequences.end());
  EXPECT_EQ(after, sequences.back());
  EXPECT_EQ((*store)->Get("stream")->status(), "OK");
  EXPECT_EQ((*store)->Get("stream")->sequence(), sequences[1]);
  // Other filters still apply; a newest-first query says where the trail is now.
  v1::QueryAuditRequest only_b;
  only_b.set_app_id("b");
  only_b.set_after_sequence(0);
  auto response = (*store)->Query(only_b);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->records_size(), 5);
  EXPECT_EQ(response->records(0).request_id(), "late0");
  auto newest = (*store)->Query(v1::QueryAuditRequest());
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->next_after_sequence(), after);
  EXPECT_EQ(newest->records(0).sequence(), sequences.back());  // late4, the newest time.
}

TEST(AuditStore, WriteOrderPageTokensContinueAndForeignTokensAreRefused) {
  const std::string path = TempPath("follow_tokens/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE((*store)->Append(Record("r" + std::to_string(i), 1000 - i, "a", v1::ALLOW)).ok());
  v1::QueryAuditRequest request;
  request.set_after_sequence(0);
  request.set_page_size(3);
  std::vector<std::string> ids;
  ASSERT_TRUE(QueryAllPages(**store, request, &ids));
  EXPECT_EQ(ids, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}));
  v1::QueryAuditRequest newest_first;
  newest_first.set_page_size(3);
  auto page = (*store)->Query(newest_first);
  ASSERT_TRUE(page.ok());
  request.set_page_token(page->next_page_token());  // A newest-first token in write order.
  EXPECT_EQ((*store)->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_page_token("seq:x");
  EXPECT_EQ((*store)->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.clear_page_token();
  request.set_after_sequence(uint64_t{1} << 63);
  EXPECT_EQ((*store)->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
}

// Numbers are never given twice, even when retention deleted every record, and a sequence a
// caller set is not stored.
TEST(AuditStore, SequenceNumbersAreNeverReused) {
  const std::string path = TempPath("sequence_reuse/audit.db");
  std::remove(path.c_str());
  uint64_t before = 0;
  {
    auto store = AuditStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Append(Record("a", 10, "a", v1::ALLOW)).ok());
    ASSERT_TRUE((*store)->Append(Record("b", 20, "a", v1::ALLOW)).ok());
    before = *(*store)->LatestSequence();
    EXPECT_EQ(*(*store)->DeleteOlderThan(1000), 2);
  }
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  v1::AuditRecord forged = Record("c", 30, "a", v1::ALLOW);
  forged.set_sequence(1);
  ASSERT_TRUE((*store)->Append(forged).ok());
  EXPECT_GT((*store)->Get("c")->sequence(), before);
  uint64_t after = before;
  EXPECT_EQ(Follow(**store, &after, 10), (std::vector<std::string>{"c"}));
}

// A file written before records had sequence numbers gets them at open, in the order its
// rows were inserted, and new writes continue after them.
TEST(AuditStore, FileWithoutSequenceNumbersIsNumberedAtOpen) {
  const std::string path = TempPath("old_schema.db");
  std::remove(path.c_str());
  std::string sql =
      "CREATE TABLE audit (request_id TEXT PRIMARY KEY, time_us INTEGER NOT NULL, app_id TEXT NOT NULL, "
      "action INTEGER NOT NULL, categories TEXT NOT NULL, record BLOB NOT NULL);";
  for (const char* id : {"first", "second"}) {
    std::string blob;
    ASSERT_TRUE(Record(id, 50, "a", v1::ALLOW).SerializeToString(&blob));
    std::string hex;
    for (unsigned char c : blob) {
      static const char* digits = "0123456789ABCDEF";
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    sql += "INSERT INTO audit VALUES ('" + std::string(id) + "', 50, 'a', 1, ',', X'" + hex + "');";
  }
  ExecDirectly(path, sql);
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append(Record("third", 40, "a", v1::ALLOW)).ok());
  uint64_t after = 0;
  std::vector<uint64_t> sequences;
  EXPECT_EQ(Follow(**store, &after, 10, &sequences), (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(sequences, (std::vector<uint64_t>{1, 2, 3}));
}

// A skipped unreadable record still moves next_after_sequence past it.
TEST(AuditStore, FollowingReadsPastUnreadableRecords) {
  const std::string path = TempPath("follow_unreadable/audit.db");
  std::remove(path.c_str());
  auto store = AuditStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE((*store)->Append(Record("r" + std::to_string(i), i, "a", v1::ALLOW)).ok());
  ExecDirectly(path, "UPDATE audit SET record = X'FFFFFFFF' WHERE request_id = 'r3'");
  testing::internal::CaptureStderr();
  uint64_t after = 0;
  EXPECT_EQ(Follow(**store, &after, 10), (std::vector<std::string>{"r1", "r2"}));
  (void)testing::internal::GetCapturedStderr();
  EXPECT_EQ(after, *(*store)->LatestSequence());
}

TEST(AuditStore, OpenFailsClearlyOnUnwritableLocation) {
  if (geteuid() == 0) {
    // Root ignores permissions; a path under a regular file cannot be created either way.
    const std::string file = TempPath("plainfile");
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    auto store = AuditStore::Open(file + "/audit.db");
    EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
    // The operator learns which setting and why (it said "unable to open database file").
    EXPECT_NE(std::string(store.status().message()).find("audit.path " + file + "/audit.db: cannot create its folder"),
              std::string::npos)
        << store.status();
    return;
  }
  const std::string dir = TempPath("readonly");
  mkdir(dir.c_str(), 0555);
  auto store = AuditStore::Open(dir + "/audit.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(store.status().message()).find("audit.path " + dir + "/audit.db"), std::string::npos)
      << store.status();
}

TEST(AuditStore, DirectoryAsTheFileIsNamed) {
  const std::string dir = TempPath("a_directory.db");
  mkdir(dir.c_str(), 0755);
  auto store = AuditStore::Open(dir);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(store.status().message()).find("audit.path " + dir + " is a directory"), std::string::npos)
      << store.status();
}

TEST(AuditStore, CorruptFileIsUnavailableNotACrash) {
  const std::string path = TempPath("corrupt.db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a sqlite database, just some bytes that fill a page or so..........", f);
  fclose(f);
  auto store = AuditStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  // Named, with what to do; not SQLite's statement ("... (PRAGMA journal_mode=WAL)").
  const std::string message(store.status().message());
  EXPECT_NE(message.find("audit.path " + path + ": file is not a database (not an SQLite database"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("PRAGMA"), std::string::npos) << message;
}

}  // namespace
}  // namespace warden::gateway
