#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <utility>
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

// The nucleus a full sort gives: the fewest most likely tokens (ties by the lower id) whose
// mass reaches top_p of the top-k's mass.
std::set<int32_t> ReferenceNucleus(const std::vector<float>& logits, float top_p, int top_k) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (top_k > 0 && static_cast<size_t>(top_k) < order.size()) order.resize(top_k);
  const float max_logit = logits[order[0]];
  double total = 0.0;
  for (int32_t id : order) total += std::exp(logits[id] - max_logit);
  std::set<int32_t> nucleus;
  double mass = 0.0;
  for (int32_t id : order) {
    nucleus.insert(id);
    mass += std::exp(logits[id] - max_logit);
    if (mass >= top_p * total) break;
  }
  return nucleus;
}

// The selection-based cut draws from exactly the nucleus a full sort gives, each token at
// its renormalised probability: many draws over a vocabulary whose nucleus is a few
// dozen tokens, with ties at the boundary.
TEST(Sampler, NucleusIsTheSetAFullSortGivesWithItsProbabilities) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(1500);
  for (float& logit : logits) logit = std::round(normal(rng) * 4.0f) / 4.0f;  // many ties
  for (const auto& [top_p, top_k] : std::vector<std::pair<float, int>>{{0.3f, 0}, {0.6f, 0}, {0.5f, 30}, {1.0f, 25}}) {
    const std::set<int32_t> nucleus = ReferenceNucleus(logits, top_p, top_k);
    ASSERT_GE(nucleus.size(), 3u);
    ASSERT_LE(nucleus.size(), 200u);
    double total = 0.0;
    for (int32_t id : nucleus) total += std::exp(logits[id]);
    Sampler sampler(Options(1.0f, top_p, top_k, 9));
    std::map<int32_t, int> counts;
    const int n = 30000;
    for (int i = 0; i < n; ++i) ++counts[sampler.Sample(logits)];
    for (const auto& [id, count] : counts) {
      EXPECT_EQ(nucleus.count(id), 1u) << "token " << id << " outside the nucleus (top_p " << top_p << ")";
    }
    for (int32_t id : nucleus) {
      const double expected = std::exp(logits[id]) / total;
      EXPECT_NEAR(counts[id] / static_cast<double>(n), expected, 4.0 * std::sqrt(expected / n) + 1e-3)
          << "token " << id << " top_p " << top_p << " top_k " << top_k;
    }
  }
}

TEST(Sampler, SameSeedSameSequence) {
  const auto logits = Logits();
  Sampler a(Options(1.2f, 0.95f, 0, 42));
  Sampler b(Options(1.2f, 0.95f, 0, 42));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Sample(logits), b.Sample(logits));
}

}  // namespace
}  // namespace warden::model
