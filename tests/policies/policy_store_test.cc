// PolicyStore: reloads swap whole policy snapshots; scanning threads never see a mix,
// and a bad reload keeps the old policies.
#include "policies/policy_store.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "policies/policy_loader.h"

namespace warden::policies {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// Writes `contents` to `path` atomically (write then rename), as an operator should.
void WriteAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

// A set whose single rule redacts `word`; its rule id names the generation.
std::string Generation(const std::string& word) {
  return "id: \"s\"\nrules { id: \"" + word + "\" category: CUSTOM action: REDACT\n"
         "  regex { pattern: \"\\\\b" + word + "\\\\b\" } }\n";
}

TEST(PolicyStore, BadReloadKeepsTheCurrentPolicies) {
  const std::string path = TempPath("store_bad.textproto");
  WriteAtomically(path, Generation("alpha"));
  absl::StatusOr<std::unique_ptr<PolicyStore>> store = PolicyStore::Open({path});
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string before = (*store)->Current()->version();

  WriteAtomically(path, "id: \"s\"\nrules { id: \"x\" category: CUSTOM action: FLAG regex { pattern: \"(\" } }\n");
  absl::StatusOr<std::string> reloaded = (*store)->Reload();
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(std::string(reloaded.status().message()).find("rules[0].regex.pattern"), std::string::npos);
  EXPECT_EQ((*store)->Current()->version(), before);

  WriteAtomically(path, Generation("beta"));
  reloaded = (*store)->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_NE(*reloaded, before);
  EXPECT_EQ((*store)->Current()->version(), *reloaded);
  absl::StatusOr<ScanResult> result = (*store)->Current()->Scan({"s"}, v1::INPUT, "alpha beta");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->redacted_text, "alpha [CUSTOM]");
}

TEST(PolicyStore, ConcurrentScansAlwaysSeeAConsistentSnapshot) {
  const std::string path = TempPath("store_race.textproto");
  WriteAtomically(path, Generation("alpha"));
  absl::StatusOr<std::unique_ptr<PolicyStore>> store = PolicyStore::Open({path});
  ASSERT_TRUE(store.ok()) << store.status();
  // The versions each generation must have, computed independently.
  const std::string alpha_version = (*store)->Current()->version();
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> beta =
      LoadPolicyTexts({{path, Generation("beta")}});
  ASSERT_TRUE(beta.ok());
  const std::string beta_version = (*beta)->version();
  ASSERT_NE(alpha_version, beta_version);

  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0}, scans{0}, saw_alpha{0}, saw_beta{0};
  auto scan = [&] {
    while (!stop.load()) {
      std::shared_ptr<const CompiledPolicies> snapshot = (*store)->Current();
      absl::StatusOr<ScanResult> r = snapshot->Scan({"s"}, v1::INPUT, "alpha and beta");
      scans.fetch_add(1);
      if (!r.ok() || r->matches.size() != 1) {
        inconsistent.fetch_add(1);
        continue;
      }
      const std::string& rule = r->matches[0].rule_id();
      const bool alpha = snapshot->version() == alpha_version && rule == "alpha" &&
                         r->redacted_text == "[CUSTOM] and beta";
      const bool is_beta = snapshot->version() == beta_version && rule == "beta" &&
                           r->redacted_text == "alpha and [CUSTOM]";
      if (alpha) saw_alpha.fetch_add(1);
      if (is_beta) saw_beta.fetch_add(1);
      if (!alpha && !is_beta) inconsistent.fetch_add(1);
    }
  };
  std::vector<std::thread> scanners;
  for (int t = 0; t < 3; ++t) scanners.emplace_back(scan);

  int good_reloads = 0, failed_reloads = 0;
  for (int i = 0; i < 30; ++i) {
    const bool bad = i % 5 == 4;
    WriteAtomically(path, bad ? std::string("id: \"s\" rules { id: 1 }") :
                                Generation(i % 2 == 0 ? "beta" : "alpha"));
    absl::StatusOr<std::string> version = (*store)->Reload();
    if (bad) {
      EXPECT_FALSE(version.ok());
      ++failed_reloads;
    } else {
      ASSERT_TRUE(version.ok()) << version.status();
      EXPECT_EQ(*version, i % 2 == 0 ? beta_version : alpha_version);
      ++good_reloads;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop.store(true);
  for (std::thread& t : scanners) t.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GT(scans.load(), 0);
  EXPECT_GT(saw_alpha.load(), 0);
  EXPECT_GT(saw_beta.load(), 0);
  EXPECT_EQ(good_reloads, 24);
  EXPECT_EQ(failed_reloads, 6);
}

}  // namespace
}  // namespace warden::policies
