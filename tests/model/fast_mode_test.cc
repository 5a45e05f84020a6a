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

using testing::MaxAbs;
using testing::MaxAbsDiff;

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

// Logits of one step decoding `sequences` sequences at once (sequence s: a 3-token prompt,
// then token 40 + s), and of each sequence's same decode step alone.
struct StepAndSingles {
  std::vector<std::vector<float>> together, alone;
};
StepAndSingles DecodeTogetherAndAlone(Engine& engine, int sequences) {
  StepAndSingles out;
  std::vector<StepInput> step;
  for (int s = 0; s < sequences; ++s) {
    const std::vector<int32_t> prompt = {s % 300, (s * 7 + 1) % 300, (s * 13 + 2) % 300};
    const SequenceId alone = engine.CreateSequence(), together = engine.CreateSequence();
    EXPECT_TRUE(engine.Prefill(alone, prompt).ok());
    EXPECT_TRUE(engine.Prefill(together, prompt).ok());
    auto single = engine.Prefill(alone, {40 + s});
    EXPECT_TRUE(single.ok()) << single.status();
    out.alone.push_back(single.ok() ? *single : std::vector<float>{});
    step.push_back({together, {40 + s}, false, ActivationPrecision::kFloat32});
  }
  auto batched = engine.Step(step);
  EXPECT_TRUE(batched.ok()) << batched.status();
  if (batched.ok()) {
    for (StepOutput& o : *batched) out.together.push_back(std::move(o.logits));
  }
  return out;
}

// 33 decode rows in one step (dense products on AMX in groups of 16 where the CPU has it):
// exact mode gives each row its logits alone (to summation order); `fast`, whose 1-row steps
// take the int8 copies and whose 33-row step the float32 paths, stays within its tolerance.
TEST(FastMode, ThirtyThreeDecodesInOneStep) {
  constexpr int kSequences = 33;
  auto exact = LoadEngine(WeightMode::kExact);
  auto fast = LoadEngine(WeightMode::kFast);
  ASSERT_NE(exact, nullptr);
  ASSERT_NE(fast, nullptr);
  const StepAndSingles e = DecodeTogetherAndAlone(*exact, kSequences);
  const StepAndSingles f = DecodeTogetherAndAlone(*fast, kSequences);
  ASSERT_EQ(e.together.size(), static_cast<size_t>(kSequences));
  ASSERT_EQ(f.together.size(), static_cast<size_t>(kSequences));
  for (int s = 0; s < kSequences; ++s) {
    EXPECT_LT(MaxAbsDiff(e.together[s], e.alone[s]), 1e-4) << "exact, sequence " << s;
    EXPECT_LT(MaxAbsDiff(f.together[s], e.alone[s]), 0.02 * MaxAbs(e.alone[s])) << "fast, sequence " << s;
  }
}

}  // namespace
}  // namespace warden::model
