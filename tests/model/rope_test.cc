// RoPE/YaRN angles against the spec's formula (../shared/spec/gpt-oss-model.md), written out
// here independently, and Hugging Face's `truncate` option.
#include "model/rope.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace warden::model {
namespace {

ModelConfig GptOssShape() {
  ModelConfig c;
  c.head_dim = 64;
  c.rope = RopeConfig{};  // theta 150000, factor 32, L0 4096, betas 32 / 1
  return c;
}

// Expected cos(angle) * concentration for dimension i at `position`, from the spec; with
// `rounded` the ramp's ends are floor(low) and ceil(high).
double ExpectedCos(const ModelConfig& c, int i, double position, bool rounded) {
  const double pi = 3.14159265358979323846;
  const RopeConfig& r = c.rope;
  const double half = c.head_dim / 2.0;
  double low = half * std::log(r.original_context / (r.beta_fast * 2 * pi)) / std::log(r.theta);
  double high = half * std::log(r.original_context / (r.beta_slow * 2 * pi)) / std::log(r.theta);
  if (rounded) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  const double freq = std::pow(r.theta, 2.0 * i / c.head_dim);
  const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
  const double inv = ramp / (r.factor * freq) + (1.0 - ramp) / freq;
  return std::cos(position * inv) * (0.1 * std::log(r.factor) + 1.0);
}

std::vector<float> Cosines(const ModelConfig& c, int64_t position) {
  RopeTable table(c);
  std::vector<float> cos(table.half()), sin(table.half());
  table.Angles(position, cos.data(), sin.data());
  return cos;
}

TEST(Rope, YarnAnglesFollowTheSpecUnrounded) {
  const ModelConfig c = GptOssShape();
  const std::vector<float> cos = Cosines(c, 37);
  ASSERT_EQ(cos.size(), 32u);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(cos[i], ExpectedCos(c, i, 37, false), 2e-5) << "dimension " << i;
}

TEST(Rope, TruncateRoundsTheRampEndsOutward) {
  ModelConfig c = GptOssShape();
  c.rope.truncate = true;
  const std::vector<float> rounded = Cosines(c, 37);
  const std::vector<float> unrounded = Cosines(GptOssShape(), 37);
  int differing = 0;
  for (int i = 0; i < 32; ++i) {
    EXPECT_NEAR(rounded[i], ExpectedCos(c, i, 37, true), 2e-5) << "dimension " << i;
    if (std::fabs(rounded[i] - unrounded[i]) > 1e-3) ++differing;
  }
  EXPECT_GT(differing, 0) << "the rounded ramp must change some angle of the ramp's dimensions";
}

TEST(Rope, FactorOneIsPlainRope) {
  ModelConfig c = GptOssShape();
  c.rope.factor = 1.0f;
  const std::vector<float> cos = Cosines(c, 5);
  for (int i = 0; i < 32; ++i) {
    EXPECT_NEAR(cos[i], std::cos(5.0 / std::pow(150000.0, 2.0 * i / 64)), 2e-6) << "dimension " << i;
  }
}

}  // namespace
}  // namespace warden::model
