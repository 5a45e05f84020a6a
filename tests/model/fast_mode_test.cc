// WeightMode::kFast: the int8 attention/unembedding copies change decode logits only
// within the fast mode's looser tolerance, and leave large prefills on the exact path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model/checkpoint_writer.h"
#include "model/engine.h"
#include "tests/model/random_checkpoint.h"

namespace warden::model {
namespace {

std::string CheckpointDir() {
  CheckpointSpec spec;
  spec.config = testing::OddShape();
  spec.seed = 3;
  return testing::RandomCheckpointOnce("fast_shape", spec);
}

std::unique_ptr<Engine> LoadEngine(WeightMode mode) {
  return testing::LoadTestEngine(CheckpointDir(), 16 << 20, mode);
}

std::vector<int32_t> Tokens(int n) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 53 + 11) % 300;
  return t;
}

// Logits of a 12-token prompt fed one token at a time (decode-sized steps), all positions.
std::vector<float> DecodeLogits(Engine& engine) {
  const SequenceId seq = engine.CreateSequence();
  std::vector<float> all;
  for (int32_t token : Tokens(12)) {
    auto logits = engine.Prefill(seq, {token});
    EXPECT_TRUE(logits.ok()) << logits.status();
    if (logits.ok()) all.insert(all.end(), logits->begin(), logits->end());
  }
  return all;
}

TEST(FastMode, DecodeLogitsStayWithinTheFastTolerance) {
  auto exact = LoadEngine(WeightMode::kExact);
  auto fast = LoadEngine(WeightMode::kFast);
  ASSERT_NE(exact, nullptr);
  ASSERT_NE(fast, nullptr);
  const std::vector<float> a = DecodeLogits(*exact), b = DecodeLogits(*fast);
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double{a[i]} - b[i]));
    scale = std::max(scale, std::fabs(double{a[i]}));
  }
  ::testing::Test::RecordProperty("relative_max_diff_ppm", static_cast<int>(1e6 * max_diff / scale));
  EXPECT_LT(max_diff, 0.02 * scale);  // the fast mode's bound: 2% of the logit range (measured ~1%)
  EXPECT_GT(max_diff, 1e-4);          // and it did take the int8 path
}

TEST(FastMode, LargePrefillUsesTheExactAttentionPath) {
  auto exact = LoadEngine(WeightMode::kExact);
  auto fast = LoadEngine(WeightMode::kFast);
  ASSERT_NE(exact, nullptr);
  ASSERT_NE(fast, nullptr);
  // All positions' logits: 20 rows reach the unembedding too, so both are exact products.
  auto a = exact->Prefill(exact->CreateSequence(), Tokens(20), true);
  auto b = fast->Prefill(fast->CreateSequence(), Tokens(20), true);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  double max_diff = 0;
  for (size_t i = 0; i < a->size(); ++i) max_diff = std::max(max_diff, std::fabs(double{(*a)[i]} - (*b)[i]));
  EXPECT_EQ(max_diff, 0.0);
}

}  // namespace
}  // namespace warden::model
