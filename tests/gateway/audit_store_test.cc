#include "gateway/audit_store.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

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

TEST(AuditStore, OpenFailsClearlyOnUnwritableLocation) {
  if (geteuid() == 0) {
    // Root ignores permissions; a path under a regular file cannot be created either way.
    const std::string file = TempPath("plainfile");
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    auto store = AuditStore::Open(file + "/audit.db");
    EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
    return;
  }
  const std::string dir = TempPath("readonly");
  mkdir(dir.c_str(), 0555);
  auto store = AuditStore::Open(dir + "/audit.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

TEST(AuditStore, CorruptFileIsUnavailableNotACrash) {
  const std::string path = TempPath("corrupt.db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a sqlite database, just some bytes that fill a page or so..........", f);
  fclose(f);
  auto store = AuditStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace warden::gateway
