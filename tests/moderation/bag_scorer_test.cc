#include "moderation/bag_scorer.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

const int kSelfHarm = CategoryIndex(warden::v1::SELF_HARM);
const int kIntent = CategoryIndex(warden::v1::SELF_HARM_INTENT);

// dim 8, no hidden layer: logit[c] = out_bias[c] + sum_d out_weights[c][d] * bag[d].
BagModel LinearHeadModel() {
  BagModel m;
  m.features.buckets_log2 = 10;
  m.features.length_norm = 1;  // mean
  m.dim = 8;
  m.embedding_scale.assign(8, 0.5f);
  m.embeddings.assign((size_t{1} << 10) * 8, 0);
  for (int d = 0; d < 8; ++d) {
    m.embeddings[3 * 8 + d] = static_cast<int8_t>(d + 1);    // bucket 3
    m.embeddings[700 * 8 + d] = static_cast<int8_t>(-2 * d); // bucket 700
  }
  m.out_weights.assign(8 * kNumCategories, 0.0f);
  m.threshold.fill(0.5f);
  return m;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(BagScorer, ComputesTheDocumentedForwardPass) {
  BagModel m = LinearHeadModel();
  m.out_weights[kSelfHarm * 8 + 0] = 1.0f;
  m.out_weights[kSelfHarm * 8 + 7] = -0.5f;
  m.out_bias[kSelfHarm] = 0.25f;
  const auto scorer = BagScorer::Create(m);
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  const std::vector<uint32_t> features = {3, 700, 3};
  // bag[d] = (1/3) * 0.5 * (2 * (d + 1) - 2d) = 1/3 for every d.
  const float bag = 1.0f / 3.0f;
  const float expected = Sigmoid(0.25f + 1.0f * bag - 0.5f * bag);
  EXPECT_NEAR(scorer->Scores(features)[kSelfHarm], expected, 1e-6);
  EXPECT_NEAR(scorer->Scores(features)[0], 0.5f, 1e-6);  // zero weights and bias
}

TEST(BagScorer, HiddenLayerAppliesRelu) {
  BagModel m = LinearHeadModel();
  m.hidden = 2;
  m.hidden_weights.assign(2 * 8, 0.0f);
  m.hidden_weights[0] = 1.0f;          // unit 0 sees bag[0]
  m.hidden_weights[8 + 0] = -1.0f;     // unit 1 sees -bag[0]: clipped to 0
  m.hidden_bias = {0.0f, 0.0f};
  m.out_weights.assign(2 * kNumCategories, 0.0f);
  m.out_weights[kSelfHarm * 2 + 0] = 2.0f;
  m.out_weights[kSelfHarm * 2 + 1] = 5.0f;
  const auto scorer = BagScorer::Create(m);
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  const std::vector<uint32_t> features = {3};  // bag[0] = 0.5 * 1
  EXPECT_NEAR(scorer->Scores(features)[kSelfHarm], Sigmoid(2.0f * 0.5f), 1e-6);
}

TEST(BagScorer, HierarchyCapsSubcategoryAtParent) {
  BagModel m = LinearHeadModel();
  m.out_bias[kSelfHarm] = -3.0f;
  m.out_bias[kIntent] = 2.0f;
  m.hierarchy = Hierarchy::kNone;
  const std::vector<uint32_t> none;
  EXPECT_GT(BagScorer::Create(m)->Scores(none)[kIntent], 0.8f);
  m.hierarchy = Hierarchy::kChildAtMostParent;
  const auto capped = BagScorer::Create(m)->Scores(none);
  EXPECT_FLOAT_EQ(capped[kIntent], capped[kSelfHarm]);
  EXPECT_LT(capped[kSelfHarm], 0.1f);
}

TEST(BagScorer, OutOfRangeBucketsAreIgnored) {
  const auto scorer = BagScorer::Create(LinearHeadModel());
  ASSERT_TRUE(scorer.ok());
  const std::vector<uint32_t> bad = {1u << 20, 0xFFFFFFFFu};
  const auto scores = scorer->Scores(bad);
  for (const float s : scores) EXPECT_NEAR(s, 0.5f, 1e-6);
}

TEST(BagScorer, InvalidModelIsRefused) {
  BagModel m = LinearHeadModel();
  m.embeddings.pop_back();
  EXPECT_EQ(BagScorer::Create(m).status().code(), absl::StatusCode::kInvalidArgument);
}

// A finite but huge parameter overflowed the sums to inf and the scores to NaN (0 * inf):
// refused at load, naming the field; at the bound, the worst text still scores in [0, 1].
TEST(BagScorer, HugeParametersAreRefusedAndTheBoundKeepsScoresFinite) {
  for (const char* field : {"embedding_scale", "hidden_weights", "hidden_bias", "out_weights", "out_bias"}) {
    BagModel m = LinearHeadModel();
    m.hidden = 2;
    m.hidden_weights.assign(2 * 8, 0.0f);
    m.hidden_bias.assign(2, 0.0f);
    m.out_weights.assign(2 * kNumCategories, 0.0f);
    const std::string name = field;
    float* value = name == "embedding_scale"  ? &m.embedding_scale[0]
                   : name == "hidden_weights" ? &m.hidden_weights[0]
                   : name == "hidden_bias"    ? &m.hidden_bias[0]
                   : name == "out_weights"    ? &m.out_weights[0]
                                              : &m.out_bias[0];
    *value = 3e38f;
    const auto refused = BagScorer::Create(m);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(refused.status().message().find(name), std::string::npos) << refused.status();
  }
  BagModel m = LinearHeadModel();
  m.hidden = 8;
  m.embedding_scale.assign(8, kBagMaxParameter);
  m.embeddings.assign(m.embeddings.size(), 127);
  m.hidden_weights.assign(8 * 8, kBagMaxParameter);
  m.hidden_bias.assign(8, kBagMaxParameter);
  m.out_weights.assign(8 * kNumCategories, kBagMaxParameter);
  for (int c = 0; c < kNumCategories; ++c) m.out_weights[c * 8 + c % 8] = -kBagMaxParameter;
  const auto scorer = BagScorer::Create(m);
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  std::vector<uint32_t> features(1 << 10);
  for (uint32_t i = 0; i < features.size(); ++i) features[i] = i;
  for (float score : scorer->Scores(features)) {
    EXPECT_TRUE(std::isfinite(score));
    EXPECT_GE(score, 0.0f);
    EXPECT_LE(score, 1.0f);
  }
}

TEST(AccumulateEmbeddingRows, MatchesAScalarSumForEveryWidth) {
  for (const uint32_t dim : {8u, 16u, 24u, 32u, 64u, 256u}) {
    const size_t rows = 64;
    std::vector<int8_t> table(rows * dim);
    for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int8_t>((i * 37) % 255 - 127);
    const std::vector<uint32_t> features = {0, 5, 63, 5, 17, 1000};
    std::vector<int32_t> acc(dim, 1), expected(dim, 1);
    for (const uint32_t f : features) {
      if (f >= rows) continue;
      for (uint32_t d = 0; d < dim; ++d) expected[d] += table[f * dim + d];
    }
    AccumulateEmbeddingRows(table.data(), rows, dim, features, acc.data());
    EXPECT_EQ(acc, expected) << dim;
  }
}

}  // namespace
}  // namespace warden::moderation
