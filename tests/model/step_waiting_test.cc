// How the forward pass sets its pool's waiting mode per step: spinning workers when every
// product of the step runs on Warden's own kernels, OpenMP (shared with oneDNN's team) when
// one may run on oneDNN. The sizes that matter are those the products really have: a dense
// product takes all of its precision group's rows, the unembedding the rows that want logits.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "model/checkpoint_writer.h"
#include "model/config.h"
#include "model/forward.h"
#include "model/kernels/amx_dense.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "tests/model/random_checkpoint.h"

namespace warden::model {
namespace {

using Waiting = ThreadPool::Waiting;

class StepWaiting : public ::testing::Test {
 protected:
  void SetUp() override {
    CheckpointSpec spec;
    spec.config = testing::OddShape();
    spec.seed = 11;
    const std::string dir = testing::RandomCheckpointOnce("step_waiting_shape", spec);
    auto config = LoadConfig(dir);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    auto weights = ModelWeights::Load(dir, config_);
    ASSERT_TRUE(weights.ok()) << weights.status();
    weights_ = *std::move(weights);
    auto ctx = KernelContext::Create({2});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ctx_ = *std::move(ctx);
    transformer_ = std::make_unique<Transformer>(config_, *weights_, *ctx_, nullptr);
  }

  // Runs one step of a fresh sequence over `tokens` tokens and returns the waiting mode it set.
  Waiting StepWith(int tokens, bool rounded, bool all_logits) {
    SequenceKvCache cache(config_, &budget_);
    std::vector<int32_t> ids(tokens);
    std::iota(ids.begin(), ids.end(), 1);
    ForwardChunk chunk;
    chunk.cache = &cache;
    chunk.tokens = ids;
    chunk.rounded = rounded;
    chunk.all_logits = all_logits;
    std::vector<std::vector<float>> logits;
    const absl::Status status = transformer_->Forward({chunk}, &logits);
    EXPECT_TRUE(status.ok()) << status;
    return ctx_->pool().waiting();
  }

  static bool Amx() { return amx_dense::Available() && CpuHasAvx512(); }

  ModelConfig config_;
  std::unique_ptr<ModelWeights> weights_;
  std::unique_ptr<KernelContext> ctx_;
  KvBudget budget_{64 << 20};
  std::unique_ptr<Transformer> transformer_;
};

TEST_F(StepWaiting, ARoundedChunkOnAmxTilesKeepsTheSpinningWorkers) {
  if (!Amx()) GTEST_SKIP() << "no AMX-BF16: rounded chunks run on oneDNN here";
  // 40 rounded rows: dense products on AMX (3-192 rows), experts on the fused AMX path;
  // only the last row wants logits, at float32 on paired rows.
  EXPECT_EQ(StepWith(40, /*rounded=*/true, /*all_logits=*/false), Waiting::kSpinning);
  // A float32 decode row, then the rounded chunk again: the mode follows each step.
  EXPECT_EQ(StepWith(1, /*rounded=*/false, /*all_logits=*/false), Waiting::kSpinning);
  EXPECT_EQ(StepWith(40, /*rounded=*/true, /*all_logits=*/true), Waiting::kSpinning);
}

TEST_F(StepWaiting, ProductsOnOneDnnSwitchToOpenMp) {
  if (!OneDnnHasBf16Matmul()) {
    // No oneDNN bf16 matmul (no AVX-512): every product runs on Warden's own kernels.
    EXPECT_EQ(StepWith(2, /*rounded=*/true, /*all_logits=*/false), Waiting::kSpinning);
    EXPECT_EQ(StepWith(300, /*rounded=*/true, /*all_logits=*/false), Waiting::kSpinning);
    return;
  }
  // Two rounded rows: their dense products run on oneDNN's rounded matmul on every CPU
  // that has one.
  EXPECT_EQ(StepWith(2, /*rounded=*/true, /*all_logits=*/false), Waiting::kOpenMp);
  // 300 rounded rows: beyond the AMX kernel's 192, oneDNN again.
  EXPECT_EQ(StepWith(300, /*rounded=*/true, /*all_logits=*/false), Waiting::kOpenMp);
}

}  // namespace
}  // namespace warden::model
