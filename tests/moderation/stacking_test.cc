// The stacking layer (moderation/stacking.h) and its trainer (moderation/stacking_trainer.h).
#include <cmath>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/stacking.h"
#include "moderation/stacking_trainer.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;
const int kHate = CategoryIndex(warden::v1::HATE);
const int kHateThreat = CategoryIndex(warden::v1::HATE_THREATENING);
const int kViolence = CategoryIndex(warden::v1::VIOLENCE);
const int kHarassment = CategoryIndex(warden::v1::HARASSMENT);

std::array<float, C> SomeScores() {
  std::array<float, C> p;
  for (int c = 0; c < C; ++c) p[c] = 0.03f + 0.06f * static_cast<float>(c);
  p[0] = 0.0f;  // saturated scores are clamped, not turned into infinities
  p[1] = 1.0f;
  return p;
}

TEST(Stacking, ZeroLayerLeavesEveryScoreBitIdentical) {
  const StackingLayer zero;
  std::array<float, C> p = SomeScores();
  const std::array<float, C> before = p;
  ApplyStacking(zero, p);
  EXPECT_EQ(std::memcmp(p.data(), before.data(), sizeof(p)), 0);
}

TEST(Stacking, HandMadeWeightsMoveOneCategoryAsComputedByHand) {
  StackingLayer layer;
  layer.bias[kHateThreat] = -0.25f;
  layer.weight[kHateThreat * C + kHate] = 0.5f;
  layer.weight[kHateThreat * C + kViolence] = 1.5f;
  std::array<float, C> p{};
  p.fill(0.5f);  // logit 0: contributes nothing through any weight
  p[kHate] = 0.8f;
  p[kHateThreat] = 0.2f;
  p[kViolence] = 0.6f;
  const std::array<float, C> before = p;
  ApplyStacking(layer, p);
  // sigmoid(logit(0.2) - 0.25 + 0.5 * logit(0.8) + 1.5 * logit(0.6)), computed by hand.
  EXPECT_NEAR(p[kHateThreat], 0.4170368186886849, 1e-6);
  for (int c = 0; c < C; ++c) {
    if (c != kHateThreat) {
      EXPECT_EQ(p[c], before[c]) << c;
    }
  }
}

TEST(Stacking, ValidationRefusesNonFiniteAndHugeValuesByName) {
  StackingLayer layer;
  EXPECT_TRUE(ValidateStackingLayer(layer).ok());
  layer.weight[kHateThreat * C + kHate] = std::nanf("");
  const absl::Status nan = ValidateStackingLayer(layer);
  EXPECT_EQ(nan.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(nan.message().find("hate/threatening on hate"), absl::string_view::npos) << nan;
  layer.weight[kHateThreat * C + kHate] = 0;
  layer.bias[kHate] = 1e6f;
  EXPECT_FALSE(ValidateStackingLayer(layer).ok());
}

// Rows whose hate/threatening label is the conjunction of hate and violence, where the
// first stage's own hate/threatening score carries no information (always 0.1).
struct ConjunctionRows {
  std::vector<Example> examples;
  std::vector<std::array<float, C>> scores;
  std::vector<const Example*> rows() const {
    std::vector<const Example*> out;
    for (const Example& e : examples) out.push_back(&e);
    return out;
  }
};

ConjunctionRows MakeConjunctionRows() {
  ConjunctionRows out;
  for (int i = 0; i < 400; ++i) {
    const bool hate = i % 2 == 0, violent = (i / 2) % 2 == 0;
    Example e;
    e.labels.fill(Label::kNegative);
    if (hate) e.labels[kHate] = Label::kPositive;
    if (violent) e.labels[kViolence] = Label::kPositive;
    if (hate && violent) e.labels[kHateThreat] = Label::kPositive;
    std::array<float, C> s;
    s.fill(0.1f);
    const float jitter = 0.001f * static_cast<float>(i % 7);
    s[kHate] = (hate ? 0.8f : 0.2f) + jitter;
    s[kViolence] = (violent ? 0.7f : 0.3f) - jitter;
    out.examples.push_back(e);
    out.scores.push_back(s);
  }
  return out;
}

TEST(StackingTrainer, LearnsAConjunctionThatTheFirstStageMissed) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> weight(data.examples.size(), 1.0f);
  const auto layer = FitStacking(data.rows(), data.scores, weight, StackingTrainOptions{});
  ASSERT_TRUE(layer.ok()) << layer.status();
  EXPECT_GT(layer->weight[kHateThreat * C + kHate], 0.5f);
  EXPECT_GT(layer->weight[kHateThreat * C + kViolence], 0.5f);
  std::array<float, C> both = data.scores[0], hate_only = data.scores[1];  // rows 0 and 1
  ApplyStacking(*layer, both);
  ApplyStacking(*layer, hate_only);
  EXPECT_GT(both[kHateThreat], 0.5f);
  EXPECT_LT(hate_only[kHateThreat], 0.2f);
}

TEST(StackingTrainer, SameRowsGiveTheSameLayerBitForBit) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> weight(data.examples.size(), 1.0f);
  const auto a = FitStacking(data.rows(), data.scores, weight, StackingTrainOptions{});
  const auto b = FitStacking(data.rows(), data.scores, weight, StackingTrainOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(std::memcmp(&*a, &*b, sizeof(StackingLayer)), 0);
}

TEST(StackingTrainer, UnknownLabelsAndZeroWeightRowsChangeNothing) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> weight(data.examples.size(), 1.0f);
  const auto base = FitStacking(data.rows(), data.scores, weight, StackingTrainOptions{});
  ConjunctionRows more = data;
  for (int i = 0; i < 50; ++i) {
    Example e;
    e.labels.fill(Label::kUnknown);
    std::array<float, C> s;
    s.fill(0.9f);
    more.examples.push_back(e);
    more.scores.push_back(s);
  }
  std::vector<float> more_weight(more.examples.size(), 1.0f);
  // And one labelled row that counts with weight 0.
  more.examples.push_back(data.examples[0]);
  more.scores.push_back(SomeScores());
  more_weight.push_back(0.0f);
  const auto with_unknown = FitStacking(more.rows(), more.scores, more_weight, StackingTrainOptions{});
  ASSERT_TRUE(base.ok() && with_unknown.ok());
  EXPECT_EQ(std::memcmp(&*base, &*with_unknown, sizeof(StackingLayer)), 0);
}

TEST(StackingTrainer, CategoriesWithFewPositivesStayUnstacked) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> weight(data.examples.size(), 1.0f);
  StackingTrainOptions options;
  options.min_positives = 101;  // hate/threatening has 100, hate and violence 200
  const auto layer = FitStacking(data.rows(), data.scores, weight, options);
  ASSERT_TRUE(layer.ok());
  EXPECT_EQ(layer->bias[kHateThreat], 0.0f);
  for (int j = 0; j < C; ++j) EXPECT_EQ(layer->weight[kHateThreat * C + j], 0.0f);
  EXPECT_NE(layer->bias[kHate], 0.0f);  // fitted (all its inputs), with its 200 positives
}

TEST(StackingTrainer, PartnerInputsStackOnlySubcategoriesFromTheirPartners) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> weight(data.examples.size(), 1.0f);
  StackingTrainOptions options;
  options.inputs = StackingInputs::kPartners;
  const auto layer = FitStacking(data.rows(), data.scores, weight, options);
  ASSERT_TRUE(layer.ok());
  EXPECT_GT(layer->weight[kHateThreat * C + kHate], 0.5f);
  EXPECT_GT(layer->weight[kHateThreat * C + kViolence], 0.5f);
  EXPECT_EQ(layer->weight[kHateThreat * C + kHarassment], 0.0f);  // not a partner
  for (const int parent : {kHate, kViolence, kHarassment}) {
    EXPECT_EQ(layer->bias[parent], 0.0f);
    for (int j = 0; j < C; ++j) EXPECT_EQ(layer->weight[parent * C + j], 0.0f);
  }
}

TEST(StackingTrainer, MismatchedSizesAreInvalidArgument) {
  const ConjunctionRows data = MakeConjunctionRows();
  const std::vector<float> short_weight(3, 1.0f);
  const auto layer = FitStacking(data.rows(), data.scores, short_weight, StackingTrainOptions{});
  EXPECT_EQ(layer.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::moderation
