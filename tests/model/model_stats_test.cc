// Size arithmetic for benchmarks: bytes per decode token and per batched decode step.
#include "model/model_stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/checkpoint_writer.h"

namespace warden::model {
namespace {

ModelConfig Preset20b() {
  auto config = PresetConfig("20b");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// One layer's experts in MXFP4 (blocks + scales), as read by a decode step.
double ExpertBytes(const ModelConfig& c) { return 3.0 * c.hidden_size * c.intermediate_size / 32 * 17; }

TEST(ModelStats, BatchOfOneReadsWhatOneDecodeTokenReads) {
  const ModelConfig c = Preset20b();
  for (bool int8_dense : {false, true}) {
    EXPECT_NEAR(ExpectedWeightBytesPerDecodeStep(c, 1, int8_dense),
                static_cast<double>(WeightBytesPerDecodeToken(c, int8_dense)), 1.0);
  }
}

TEST(ModelStats, BatchReadsTheExpectedDistinctExpertsOnce) {
  const ModelConfig c = Preset20b();  // 32 experts, 4 per token
  // 8 tokens: 32 * (1 - (28/32)^8) = 21.0 distinct experts per layer instead of 4, and
  // 7 more embedding rows.
  const double distinct = 32.0 * (1.0 - std::pow(28.0 / 32.0, 8));
  const double extra = (distinct - 4.0) * ExpertBytes(c) * c.num_layers + 7.0 * c.hidden_size * 2;
  EXPECT_NEAR(ExpectedWeightBytesPerDecodeStep(c, 8) - ExpectedWeightBytesPerDecodeStep(c, 1), extra, 1.0);
  EXPECT_NEAR(distinct, 21.0, 0.05);
}

TEST(ModelStats, LargeBatchesReadEveryExpertAndNoMore) {
  const ModelConfig c = Preset20b();
  const double all = ExpectedWeightBytesPerDecodeStep(c, 1, false) +
                     (c.num_experts - c.experts_per_token) * ExpertBytes(c) * c.num_layers;
  const double big = ExpectedWeightBytesPerDecodeStep(c, 1000, false);
  EXPECT_LT(big, all + 1000.0 * c.hidden_size * 2 + 1.0);
  EXPECT_GT(big, all);  // the embedding rows of 999 more tokens
  double previous = 0;
  for (int batch = 1; batch <= 64; batch *= 2) {  // more tokens never read less
    const double bytes = ExpectedWeightBytesPerDecodeStep(c, batch, true);
    EXPECT_GT(bytes, previous) << batch;
    previous = bytes;
  }
}

}  // namespace
}  // namespace warden::model
