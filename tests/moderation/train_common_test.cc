#include "moderation/train_common.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/moderation/harassment_rows.h"

namespace warden::moderation {
namespace {

using testing::HarassmentRow;

const int kHarassment = CategoryIndex(warden::v1::HARASSMENT);
const int kHate = CategoryIndex(warden::v1::HATE);

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
