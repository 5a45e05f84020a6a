#include "moderation/metrics.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

TEST(ComputeBinaryMetrics, PerfectRankingHasAuprcOne) {
  const auto m = ComputeBinaryMetrics({{0.9f, true}, {0.8f, true}, {0.3f, false}, {0.1f, false}}, 0.5f);
  EXPECT_DOUBLE_EQ(m.auprc, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_EQ(m.positives, 2);
  EXPECT_EQ(m.negatives, 2);
}

TEST(ComputeBinaryMetrics, AveragePrecisionOfAnInterleavedRanking) {
  // Ranked: +, -, +, -  -> AP = (1/2)*1 + (1/2)*(2/3).
  const auto m = ComputeBinaryMetrics({{0.9f, true}, {0.7f, false}, {0.5f, true}, {0.2f, false}}, 0.6f);
  EXPECT_NEAR(m.auprc, 0.5 + 1.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 0.5);
}

TEST(ComputeBinaryMetrics, TiedScoresFormOneStep) {
  const auto m = ComputeBinaryMetrics({{0.5f, true}, {0.5f, false}}, 0.9f);
  EXPECT_DOUBLE_EQ(m.auprc, 0.5);
  EXPECT_DOUBLE_EQ(m.precision, 0.0);
}

TEST(BestThreshold, SeparatesWhenPossibleAndFallsBackWithoutPositives) {
  EXPECT_FLOAT_EQ(BestThreshold({{0.9f, true}, {0.6f, true}, {0.4f, false}}, 1.0, 0.5f), 0.6f);
  EXPECT_FLOAT_EQ(BestThreshold({{0.9f, false}}, 1.0, 0.42f), 0.42f);
}

TEST(BootstrapMedianThreshold, ZeroResamplesIsBestThresholdAndNoPositivesFallBack) {
  const std::vector<ScoredLabel> scored = {{0.9f, true}, {0.7f, false}, {0.6f, true}, {0.4f, false}};
  EXPECT_FLOAT_EQ(BootstrapMedianThreshold(scored, 0.5, 0.5f, 0, 1), BestThreshold(scored, 0.5, 0.5f));
  EXPECT_FLOAT_EQ(BootstrapMedianThreshold({{0.9f, false}, {0.3f, false}}, 0.5, 0.42f, 51, 1), 0.42f);
  EXPECT_FLOAT_EQ(BootstrapMedianThreshold({}, 0.5, 0.42f, 51, 1), 0.42f);
}

TEST(BootstrapMedianThreshold, SeparableRowsGetASeparatingThreshold) {
  // Every resample's best threshold is its lowest positive score, above every negative.
  std::vector<ScoredLabel> scored;
  for (int i = 0; i < 40; ++i) scored.push_back({0.6f + 0.01f * i, true});
  for (int i = 0; i < 200; ++i) scored.push_back({0.002f * i, false});
  const float t = BootstrapMedianThreshold(scored, 0.5, 0.5f, 101, 7);
  EXPECT_GE(t, 0.6f);
  EXPECT_LE(t, 0.99f);
}

TEST(BootstrapMedianThreshold, IsOneOfTheScoresAndTheSameForTheSameSeed) {
  std::vector<ScoredLabel> scored;
  for (int i = 0; i < 300; ++i) {
    const int level = (i * 37) % 101;  // scores 0.00-1.00, positives overlapping negatives
    scored.push_back({level / 100.0f, level > 40 + i % 30});
  }
  const float t = BootstrapMedianThreshold(scored, 0.5, 0.5f, 101, 3);
  EXPECT_EQ(t, BootstrapMedianThreshold(scored, 0.5, 0.5f, 101, 3));
  EXPECT_TRUE(std::any_of(scored.begin(), scored.end(), [t](const ScoredLabel& s) { return s.score == t; })) << t;
}

TEST(Calibration, BinsCountScoresAndPositiveRates) {
  const auto bins = Calibration({{0.05f, false}, {0.95f, true}, {0.91f, false}, {1.0f, true}}, 10);
  ASSERT_EQ(bins.size(), 10u);
  EXPECT_EQ(bins[0].count, 1);
  EXPECT_EQ(bins[9].count, 3);
  EXPECT_NEAR(bins[9].positive_rate, 2.0 / 3, 1e-9);
}

}  // namespace
}  // namespace warden::moderation
