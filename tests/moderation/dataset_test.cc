#include "moderation/dataset.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

TEST(ParseExample, ReadsPositivesUnknownsAndNegatives) {
  const auto e = ParseExample(
      R"({"text": "x", "categories": ["hate"], "unknown": ["sexual", "hate"], "source": "s"})",
      "f:1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->text, "x");
  EXPECT_EQ(e->source, "s");
  EXPECT_EQ(e->labels[CategoryIndex(warden::v1::HATE)], Label::kPositive);
  EXPECT_EQ(e->labels[CategoryIndex(warden::v1::SEXUAL)], Label::kUnknown);
  EXPECT_EQ(e->labels[CategoryIndex(warden::v1::VIOLENCE)], Label::kNegative);
}

TEST(ParseExample, RejectsMalformedRowsNamingTheOrigin) {
  for (const char* line : {"not json", "[1]", R"({"categories": []})", R"({"text": 3})",
                           R"({"text": "x", "categories": ["nope"]})",
                           R"({"text": "x", "categories": "hate"})"}) {
    const auto e = ParseExample(line, "data.jsonl:7");
    ASSERT_FALSE(e.ok()) << line;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find("data.jsonl:7"), absl::string_view::npos);
  }
}

TEST(ParseExample, ReadsTheGroupAndIgnoresOtherFields) {
  const auto grouped = ParseExample(
      R"({"text": "x", "categories": [], "source": "hatecheck", "group": "0123abcd", "first_stage": {}})",
      "f:1");
  ASSERT_TRUE(grouped.ok()) << grouped.status();
  EXPECT_EQ(grouped->group, "0123abcd");
  const auto ungrouped = ParseExample(R"({"text": "x", "categories": []})", "f:2");
  ASSERT_TRUE(ungrouped.ok()) << ungrouped.status();
  EXPECT_EQ(ungrouped->group, "");
}

TEST(ParseExample, RejectsAGroupThatIsNotAString) {
  for (const char* line : {R"({"text": "x", "group": 7})", R"({"text": "x", "group": null})",
                           R"({"text": "x", "group": ["a"]})"}) {
    const auto e = ParseExample(line, "data.jsonl:9");
    ASSERT_FALSE(e.ok()) << line;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find("data.jsonl:9"), absl::string_view::npos);
    EXPECT_NE(e.status().message().find("group"), absl::string_view::npos);
  }
}

// Keys the format does not read are counted for the caller's warning: a row whose labels
// sit under a misspelt key ("labels") reads as an all-negative row.
TEST(ParseExample, CountsTheKeysItIgnores) {
  std::map<std::string, int> ignored;
  for (const char* line : {R"({"text": "x", "labels": ["hate"], "id": 1})", R"({"text": "y", "labels": []})",
                           R"({"text": "z", "categories": ["hate"], "source": "s", "group": "g", "unknown": []})"}) {
    const auto e = ParseExample(line, "f:1", &ignored);
    ASSERT_TRUE(e.ok()) << e.status();
  }
  EXPECT_EQ(ignored, (std::map<std::string, int>{{"id", 1}, {"labels", 2}}));
}

}  // namespace
}  // namespace warden::moderation
