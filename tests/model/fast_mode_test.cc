// WeightMode::kFast: the int8 attention/unembedding copies change decode logits only
// within the fast mode's looser tolerance, and leave large prefills on the exact path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model/checkpoint_writer.h"
#include "model/engine.h"

namespace warden::model {
namespace {

const std::string& CheckpointDir() {
  static const std::string* dir = [] {
    auto* path = new std::string(::testing::TempDir() + "/fast_shape");
    CheckpointSpec spec;
    spec.config.hidden_size = 96;
    spec.config.intermediate_size = 64;
    spec.config.num_experts = 5;
    spec.config.experts_per_token = 2;
    spec.config.num_heads = 6;
    spec.config.num_kv_heads = 2;
    spec.config.head_dim = 16;
    spec.config.vocab_size = 300;
    spec.config.sliding_window = 4;
    SetLayerCount(3, &spec.config);
    spec.seed = 3;
    const absl::Status status = WriteRandomCheckpoint(*path, spec);
    EXPECT_TRUE(status.ok()) << status;
    return path;
  }();
  return *dir;
}

std::unique_ptr<Engine> LoadEngine(WeightMode mode) {
  LoadOptions options;
  options.model_dir = CheckpointDir();
  options.threads = 2;
  options.kv_budget_bytes = 16 << 20;
  options.weight_mode = mode;
  auto engine = Engine::Load(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
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
