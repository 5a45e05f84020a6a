#include "moderation/taxonomy.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

TEST(Taxonomy, NamesMatchOpenAiSpellingsInEnumOrder) {
  const char* expected[] = {"harassment", "harassment/threatening", "hate", "hate/threatening",
                            "illicit", "illicit/violent", "self-harm", "self-harm/intent",
                            "self-harm/instructions", "sexual", "sexual/minors", "violence",
                            "violence/graphic", "prompt-injection", "jailbreak"};
  for (int i = 0; i < kNumCategories; ++i) {
    EXPECT_EQ(CategoryName(kCategories[i]), expected[i]);
    EXPECT_EQ(CategoryIndex(kCategories[i]), i);
  }
  EXPECT_EQ(kCategories.front(), warden::v1::HARASSMENT);
  EXPECT_EQ(kCategories.back(), warden::v1::JAILBREAK);
}

TEST(Taxonomy, NameRoundTripsForEveryCategory) {
  for (const auto category : kCategories) {
    const auto parsed = CategoryFromName(CategoryName(category));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, category);
  }
}

TEST(Taxonomy, RejectsUnknownAndNearMissNames) {
  for (const char* name : {"", "Hate", "self_harm", "harassment/", "pii", "violence/graphic "}) {
    const auto parsed = CategoryFromName(name);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kNotFound) << name;
  }
}

TEST(Taxonomy, PolicyFilterCategoriesAreNotClassifierCategories) {
  EXPECT_EQ(CategoryIndex(warden::v1::PII), -1);
  EXPECT_EQ(CategoryIndex(warden::v1::CATEGORY_UNSPECIFIED), -1);
  EXPECT_EQ(CategoryName(warden::v1::SECRETS), "");
}

}  // namespace
}  // namespace warden::moderation
