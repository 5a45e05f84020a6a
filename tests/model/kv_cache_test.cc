// KvBytesForLength (what the engine checks a prompt against) is exactly what a sequence
// reserves, for full and sliding layers, across the growth steps.
#include "model/kv_cache.h"

#include <gtest/gtest.h>

namespace warden::model {
namespace {

ModelConfig TwoKinds() {
  ModelConfig config;
  config.num_layers = 3;
  config.num_kv_heads = 2;
  config.head_dim = 8;
  config.sliding_window = 100;
  config.layer_types = {AttentionType::kSliding, AttentionType::kFull, AttentionType::kSliding};
  return config;
}

TEST(KvBytesForLength, EqualsWhatAFreshSequenceReserves) {
  const ModelConfig config = TwoKinds();
  for (int64_t length : {1, 99, 100, 255, 256, 257, 1000}) {
    KvBudget budget(int64_t{1} << 30);
    SequenceKvCache cache(config, &budget);
    ASSERT_TRUE(cache.Reserve(length).ok()) << length;
    EXPECT_EQ(KvBytesForLength(config, length), cache.reserved_bytes()) << length;
    EXPECT_EQ(budget.used(), cache.reserved_bytes()) << length;
  }
  EXPECT_EQ(KvBytesForLength(config, 0), 0);
  // 1000 positions: the full layer holds 1024 (four growth steps), each sliding layer its
  // window of 100; 2 (key, value) x 16 floats x 4 bytes per position.
  EXPECT_EQ(KvBytesForLength(config, 1000), (1024 + 100 + 100) * 2 * 16 * 4);
}

TEST(KvBytesForLength, APromptOverTheBudgetCannotReserve) {
  const ModelConfig config = TwoKinds();
  const int64_t limit = KvBytesForLength(config, 512);
  KvBudget budget(limit);
  SequenceKvCache cache(config, &budget);
  EXPECT_TRUE(cache.Reserve(512).ok());
  EXPECT_GT(KvBytesForLength(config, 513), limit);
  EXPECT_EQ(cache.Reserve(513).code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace warden::model
