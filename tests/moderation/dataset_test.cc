#include "moderation/dataset.h"

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

}  // namespace
}  // namespace warden::moderation
