// Table-driven detector tests: true positives, near misses and evasions, with spans and
// redactions checked against the original text.
#include <algorithm>

#include "gtest/gtest.h"
#include "policies/policy_loader.h"
#include "tests/policies/detector_cases.h"

namespace warden::policies {
namespace {

using testing::DetectorCase;

std::shared_ptr<const CompiledPolicies> LoadAll() {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded =
      LoadPolicyFiles({testing::kAllDetectorsPolicy});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? *loaded : nullptr;
}

std::vector<std::pair<std::string, std::string>> Found(const ScanResult& result,
                                                       const std::string& text) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const v1::RuleMatch& m : result.matches) {
    EXPECT_LE(m.span().begin(), m.span().end());
    EXPECT_LE(m.span().end(), text.size());
    found.emplace_back(m.entity_type(), text.substr(m.span().begin(), m.span().end() - m.span().begin()));
  }
  std::sort(found.begin(), found.end());
  return found;
}

TEST(DetectorTable, EveryCaseFindsExactlyTheExpectedSpans) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::vector<DetectorCase> cases = testing::LoadDetectorCases();
  ASSERT_GT(cases.size(), 50u);
  const std::vector<std::string> sets = {"all"};
  for (const DetectorCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ScanResult> result = policies->Scan(sets, v1::INPUT, c.text);
    ASSERT_TRUE(result.ok()) << result.status();
    std::vector<std::pair<std::string, std::string>> expected = c.expect;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Found(*result, c.text), expected);
    if (c.redacted.has_value()) {
      EXPECT_EQ(result->redacted_text, *c.redacted);
    }
    if (c.action.has_value()) {
      EXPECT_EQ(v1::Action_Name(result->action), *c.action);
    } else if (c.expect.empty()) {
      EXPECT_EQ(result->action, v1::ALLOW);
      EXPECT_EQ(result->redacted_text, c.text);
    }
  }
}

// A whole text (a prompt, a Moderate text, a tool call) is scanned without the stream's
// hold-back, so secrets longer than a detector's streaming bound are still found whole: a
// 1.5 KB JWT (an Entra ID access token's size) and a 300-character api_key value.
TEST(DetectorTable, WholeTextFindsSecretsLongerThanTheStreamingBound) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::string header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";  // {"alg":"HS256","typ":"JWT"}
  std::string payload = "eyJzdWIiOiJ";  // {"sub":"...
  payload += std::string(1400, 'Y');
  const std::string jwt = header + "." + payload + ".c2lnbmF0dXJlX29mX3RoZV90b2tlbl9oZXJl";
  ASSERT_GT(jwt.size(), 1200u);
  std::string key = "q7Zx";
  for (int i = 0; key.size() < 300; ++i) key += "A9b$kR2m"[i % 8] + std::to_string(i % 10);
  key.resize(300);
  const std::string text = "Authorization: Bearer " + jwt + " and api_key=" + key + " end";
  absl::StatusOr<ScanResult> result = policies->Scan({"all"}, v1::INPUT, text);
  ASSERT_TRUE(result.ok()) << result.status();
  const auto found = Found(*result, text);
  EXPECT_NE(std::find(found.begin(), found.end(), std::make_pair(std::string("JWT"), jwt)), found.end());
  EXPECT_NE(std::find(found.begin(), found.end(), std::make_pair(std::string("HIGH_ENTROPY_SECRET"), key)),
            found.end());
  EXPECT_EQ(result->redacted_text.find("YYYY"), std::string::npos) << result->redacted_text;
}

TEST(DetectorTable, KeyedHashRedactionIsStableAndKeyed) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::vector<std::string> sets = {"all"};
  absl::StatusOr<ScanResult> a = policies->Scan(sets, v1::INPUT, "IBAN DE89 3704 0044 0532 0130 00");
  absl::StatusOr<ScanResult> b = policies->Scan(sets, v1::OUTPUT, "x GB82 WEST 1234 5698 7654 32");
  absl::StatusOr<ScanResult> again = policies->Scan(sets, v1::INPUT, "IBAN DE89 3704 0044 0532 0130 00");
  ASSERT_TRUE(a.ok() && b.ok() && again.ok());
  EXPECT_EQ(a->redacted_text.rfind("IBAN [IBAN:", 0), 0u) << a->redacted_text;
  EXPECT_EQ(a->redacted_text.size(), std::string("IBAN [IBAN:0123456789abcdef]").size());
  EXPECT_EQ(a->redacted_text, again->redacted_text);
  EXPECT_NE(a->redacted_text.substr(5), b->redacted_text.substr(2));
}

TEST(DetectorTable, BlockCarriesTheRuleMessage) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::vector<std::string> sets = {"all"};
  absl::StatusOr<ScanResult> result = policies->Scan(sets, v1::INPUT, "well darn");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->action, v1::BLOCK);
  EXPECT_EQ(result->block_message, "Blocked by policy rule terms.");
  ASSERT_EQ(result->matches.size(), 1u);
  EXPECT_EQ(result->matches[0].rule_id(), "terms");
  EXPECT_EQ(result->matches[0].policy_set(), "all");
  EXPECT_EQ(result->matches[0].category(), v1::BLOCKLIST);
}

}  // namespace
}  // namespace warden::policies
