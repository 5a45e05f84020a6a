#include "moderation/train_common.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/model_file.h"
#include "tests/moderation/harassment_rows.h"

namespace warden::moderation {
namespace {

using testing::HarassmentRow;

const int kHarassment = CategoryIndex(warden::v1::HARASSMENT);
const int kHate = CategoryIndex(warden::v1::HATE);

// `groups` groups of `per_group` rows each, every row with its own text ("case g.i"), as
// HateCheck's templates: one group's cases differ in the words filled in.
std::vector<Example> GroupedRows(int groups, int per_group) {
  std::vector<Example> out;
  for (int g = 0; g < groups; ++g) {
    for (int i = 0; i < per_group; ++i) {
      Example e = HarassmentRow("hatecheck", i % 2 == 0 ? Label::kPositive : Label::kNegative);
      e.text = "case " + std::to_string(g) + "." + std::to_string(i);
      e.group = "templ-" + std::to_string(g);
      out.push_back(e);
    }
  }
  return out;
}

// Group -> the sides its rows fell on (true = development).
std::map<std::string, std::set<bool>> SidesByGroup(const std::vector<Example>& rows, DevSplit split) {
  std::map<std::string, std::set<bool>> sides;
  for (const Example& e : rows) sides[e.group].insert(IsDevRow(e, 10, split));
  return sides;
}

TEST(DevSplit, GroupSplitNeverPutsOneGroupOnBothSides) {
  const std::vector<Example> rows = GroupedRows(300, 6);
  int dev_groups = 0;
  for (const auto& [group, sides] : SidesByGroup(rows, DevSplit::kGroup)) {
    EXPECT_EQ(sides.size(), 1u) << group;
    dev_groups += sides.count(true) > 0;
  }
  // About 10 % of the 300 groups, and never none or all of them.
  EXPECT_GT(dev_groups, 10);
  EXPECT_LT(dev_groups, 60);
}

TEST(DevSplit, TextSplitScattersAGroupOverBothSides) {
  // What the group split is for: by text, a template's cases land on both sides.
  int straddling = 0;
  for (const auto& [group, sides] : SidesByGroup(GroupedRows(300, 6), DevSplit::kText)) {
    straddling += sides.size() == 2;
  }
  EXPECT_GT(straddling, 10);
}

TEST(DevSplit, RowsWithoutAGroupFallBackToTheTextHash) {
  int dev = 0;
  for (int i = 0; i < 2000; ++i) {
    Example e = HarassmentRow("goemotions", Label::kNegative);
    e.text = "comment number " + std::to_string(i);
    EXPECT_EQ(&DevSplitKey(e, DevSplit::kGroup), &e.text);
    const bool by_text_hash = Crc32(e.text) % 100 < 10;
    EXPECT_EQ(IsDevRow(e, 10, DevSplit::kGroup), by_text_hash) << e.text;
    EXPECT_EQ(IsDevRow(e, 10, DevSplit::kText), by_text_hash) << e.text;
    dev += by_text_hash;
  }
  EXPECT_GT(dev, 100);  // about 200 of 2000
  EXPECT_LT(dev, 300);
}

TEST(DevSplit, GroupSplitHashesTheGroupAndTextSplitIgnoresIt) {
  Example e = HarassmentRow("hatecheck", Label::kPositive);
  e.text = "case 1.1";
  e.group = "templ-1";
  EXPECT_EQ(DevSplitKey(e, DevSplit::kGroup), "templ-1");
  EXPECT_EQ(DevSplitKey(e, DevSplit::kText), "case 1.1");
  EXPECT_EQ(IsDevRow(e, 10, DevSplit::kGroup), Crc32("templ-1") % 100 < 10);
  EXPECT_FALSE(IsDevRow(e, 0, DevSplit::kGroup));   // no development split
  EXPECT_TRUE(IsDevRow(e, 100, DevSplit::kGroup));  // everything is development
}

TEST(DevSplit, SameRowsGiveTheSameSplitInAnyOrder) {
  std::vector<Example> rows = GroupedRows(100, 4);
  const auto dev_texts = [](const std::vector<Example>& data) {
    std::set<std::string> out;
    for (const Example& e : data) {
      if (IsDevRow(e, 10, DevSplit::kGroup)) out.insert(e.text);
    }
    return out;
  };
  const std::set<std::string> first = dev_texts(rows);
  std::reverse(rows.begin(), rows.end());
  EXPECT_EQ(dev_texts(rows), first);
  EXPECT_FALSE(first.empty());
}

TEST(SourceOffsets, LearnsOnlyCategoriesWhereTheSourceHasBothLabels) {
  // "tweets" has positives and negatives for harassment, negatives only for hate;
  // "chat" has negatives only.
  const std::vector<Example> data = {HarassmentRow("tweets", Label::kPositive),
                                     HarassmentRow("tweets", Label::kNegative),
                                     HarassmentRow("chat", Label::kNegative)};
  std::vector<const Example*> rows;
  for (const Example& e : data) rows.push_back(&e);
  SourceOffsets offsets(rows, /*enabled=*/true);
  EXPECT_EQ(offsets.sources(), 2);
  CategoryArray grad{};
  grad[kHarassment] = -1.0f;  // the loss wants a higher harassment logit
  grad[kHate] = -1.0f;
  offsets.Update(0, grad, 0.5f);
  offsets.Update(2, grad, 0.5f);

  CategoryArray tweet{}, chat{};
  offsets.AddTo(1, tweet);  // row 1 shares row 0's source
  offsets.AddTo(2, chat);
  EXPECT_GT(tweet[kHarassment], 0.4f);
  EXPECT_EQ(tweet[kHate], 0.0f);       // hate: tweets are all negative
  EXPECT_EQ(chat[kHarassment], 0.0f);  // chat: all negative
}

TEST(SourceOffsets, DisabledOffsetsNeverChangeALogit) {
  const std::vector<Example> data = {HarassmentRow("tweets", Label::kPositive),
                                     HarassmentRow("tweets", Label::kNegative)};
  std::vector<const Example*> rows = {&data[0], &data[1]};
  SourceOffsets offsets(rows, /*enabled=*/false);
  CategoryArray grad{};
  grad[kHarassment] = -1.0f;
  offsets.Update(0, grad, 0.5f);
  CategoryArray logit{};
  offsets.AddTo(0, logit);
  EXPECT_EQ(logit[kHarassment], 0.0f);
  EXPECT_EQ(offsets.sources(), 0);
}

TEST(SourceWeights, SmallSourcesAreCappedAtTheMaximumWeight) {
  std::vector<Example> data;
  for (int i = 0; i < 400; ++i) data.push_back(HarassmentRow("big", Label::kNegative));
  data.push_back(HarassmentRow("tiny", Label::kPositive));
  std::vector<const Example*> rows;
  for (const Example& e : data) rows.push_back(&e);
  const std::vector<float> default_cap = SourceWeights(rows, 100);
  EXPECT_FLOAT_EQ(default_cap.front(), 0.5f);  // (100 / 400)^0.5
  EXPECT_FLOAT_EQ(default_cap.back(), 4.0f);   // (100 / 1)^0.5 = 10, capped
  const std::vector<float> capped = SourceWeights(rows, 100, 1.5f);
  EXPECT_FLOAT_EQ(capped.front(), 0.5f);
  EXPECT_FLOAT_EQ(capped.back(), 1.5f);
  EXPECT_FLOAT_EQ(SourceWeights(rows, 0, 1.5f).back(), 1.0f);  // balancing off
}

TEST(SourceWeights, GroupedSourcesShareOneWeightBySizeOfTheGroup) {
  // Two authored files of 25 rows each and a 100-row public source: apart, each file is
  // a source of 25 rows; grouped, the files are one source "authored" of 50 rows.
  std::vector<Example> data;
  for (int i = 0; i < 25; ++i) data.push_back(HarassmentRow("authored/a", Label::kPositive));
  for (int i = 0; i < 25; ++i) data.push_back(HarassmentRow("authored/b", Label::kNegative));
  for (int i = 0; i < 100; ++i) data.push_back(HarassmentRow("public", Label::kNegative));
  std::vector<const Example*> rows;
  for (const Example& e : data) rows.push_back(&e);
  const std::vector<float> apart = SourceWeights(rows, 100, 4.0f, /*group_sources=*/false);
  EXPECT_FLOAT_EQ(apart[0], 2.0f);      // (100 / 25)^0.5
  EXPECT_FLOAT_EQ(apart[25], 2.0f);
  const std::vector<float> grouped = SourceWeights(rows, 100, 4.0f, /*group_sources=*/true);
  EXPECT_FLOAT_EQ(grouped[0], std::sqrt(2.0f));  // (100 / 50)^0.5
  EXPECT_FLOAT_EQ(grouped[25], std::sqrt(2.0f));
  EXPECT_FLOAT_EQ(grouped[50], 1.0f);   // a name without '/' is its own group
}

TEST(SourceWeightGroup, IsTheNameBeforeTheFirstSlash) {
  EXPECT_EQ(SourceWeightGroup("authored/self_harm"), "authored");
  EXPECT_EQ(SourceWeightGroup("goemotions"), "goemotions");
  EXPECT_EQ(SourceWeightGroup("a/b/c"), "a");
  EXPECT_EQ(SourceWeightGroup(""), "");
}

}  // namespace
}  // namespace warden::moderation
