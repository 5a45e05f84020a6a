#include "model/sampler.h"

#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace warden::model {
namespace {

SamplingOptions Options(float temperature, float top_p, int top_k, uint64_t seed) {
  SamplingOptions options;
  options.temperature = temperature;
  options.top_p = top_p;
  options.top_k = top_k;
  options.seed = seed;
  return options;
}

// A row with a few likely tokens and a long flat tail.
std::vector<float> Logits() {
  std::vector<float> logits(20000, -30.0f);
  logits[7] = 5.0f;
  logits[3] = 4.0f;
  logits[11] = 3.0f;
  logits[200] = 2.0f;
  return logits;
}

TEST(Sampler, GreedyAndTopOneAlwaysPickTheArgmax) {
  const auto logits = Logits();
  Sampler greedy(Options(0.0f, 1.0f, 0, 1));
  Sampler top_one(Options(1.0f, 1.0f, 1, 2));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(greedy.Sample(logits), 7);
    EXPECT_EQ(top_one.Sample(logits), 7);
  }
}

TEST(Sampler, SmallNucleusKeepsOnlyTheHeadAndTopKBoundsTheChoices) {
  const auto logits = Logits();
  Sampler nucleus(Options(1.0f, 0.5f, 0, 3));  // P(7) ≈ 0.64 > 0.5.
  Sampler top_two(Options(1.0f, 1.0f, 2, 4));
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(nucleus.Sample(logits), 7);
    const int32_t id = top_two.Sample(logits);
    EXPECT_TRUE(id == 7 || id == 3) << id;
  }
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
  const auto logits = Logits();
  Sampler sampler(Options(1.0f, 1.0f, 0, 5));
  std::map<int32_t, int> counts;
  const int n = 3000;
  for (int i = 0; i < n; ++i) ++counts[sampler.Sample(logits)];
  double total = 0;
  for (int id : {7, 3, 11, 200}) total += std::exp(logits[id] - 5.0);
  for (int id : {7, 3, 11}) {
    const double expected = std::exp(logits[id] - 5.0) / total;
    EXPECT_NEAR(counts[id] / static_cast<double>(n), expected, 0.03) << id;
  }
}

TEST(Sampler, NucleusThatNeedsTheTailStillSamplesFromIt) {
  // Flat logits: a 0.9 nucleus must span 90% of the vocabulary.
  std::vector<float> logits(1000, 0.0f);
  Sampler sampler(Options(1.0f, 0.9f, 0, 6));
  std::map<int32_t, int> counts;
  for (int i = 0; i < 2000; ++i) ++counts[sampler.Sample(logits)];
  EXPECT_GT(counts.size(), 500u);
  for (const auto& [id, count] : counts) EXPECT_LT(id, 901) << id;  // Ties broken by id.
}

TEST(Sampler, SameSeedSameSequence) {
  const auto logits = Logits();
  Sampler a(Options(1.2f, 0.95f, 0, 42));
  Sampler b(Options(1.2f, 0.95f, 0, 42));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Sample(logits), b.Sample(logits));
}

}  // namespace
}  // namespace warden::model
