// KvBytesForLength (what the engine checks a prompt against) is exactly what a sequence
// reserves, for full and sliding layers, across the growth steps; padded rows keep their
// values through growth of both kinds of layer.
#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <vector>

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

TEST(KvRowStride, AddsOneCacheLineToRowsOfAMultipleOfEightLines) {
  ModelConfig config;
  config.num_kv_heads = 8;
  config.head_dim = 64;  // gpt-oss: 512 floats, 32 lines
  EXPECT_EQ(KvRowStride(config), 528);
  config.num_kv_heads = 2;  // 8 lines
  EXPECT_EQ(KvRowStride(config), 144);
  config.head_dim = 32;  // 4 lines: rows start on 16 different sets already
  EXPECT_EQ(KvRowStride(config), 64);
  config.head_dim = 12;  // 24 floats: rows not line-aligned anyway
  EXPECT_EQ(KvRowStride(config), 24);
  config.num_kv_heads = 20;
  config.head_dim = 16;  // 20 lines: not a multiple of 8
  EXPECT_EQ(KvRowStride(config), 320);
}

TEST(SequenceKvCache, PaddedRowsKeepTheirValuesAsLayersGrow) {
  ModelConfig config = TwoKinds();
  config.head_dim = 64;  // 128-float rows, padded to 144
  config.sliding_window = 300;
  ASSERT_EQ(KvRowStride(config), 144);
  const int row = config.num_kv_heads * config.head_dim;
  KvBudget budget(int64_t{1} << 30);
  SequenceKvCache cache(config, &budget);
  EXPECT_EQ(KvBytesForLength(config, 600), [&] {
    SequenceKvCache probe(config, &budget);
    EXPECT_TRUE(probe.Reserve(600).ok());
    return probe.reserved_bytes();
  }());
  auto value_of = [row](int64_t position, int i, bool key) { return (key ? 1.0f : -1.0f) * (position * row + i); };
  std::vector<float> k(row), v(row);
  // 600 positions one at a time: the full layer grows past 256 and 512, the sliding layers
  // to their window of 300 and then wrap.
  for (int64_t p = 0; p < 600; ++p) {
    ASSERT_TRUE(cache.Reserve(p + 1).ok());
    for (int i = 0; i < row; ++i) {
      k[i] = value_of(p, i, true);
      v[i] = value_of(p, i, false);
    }
    for (int layer = 0; layer < config.num_layers; ++layer) cache.Store(layer, p, k.data(), v.data());
    cache.set_length(p + 1);
  }
  for (int layer = 0; layer < config.num_layers; ++layer) {
    const int64_t first = config.layer_types[layer] == AttentionType::kSliding ? 600 - 300 : 0;
    for (int64_t p = first; p < 600; ++p) {
      for (int i = 0; i < row; ++i) {
        ASSERT_EQ(cache.Key(layer, p)[i], value_of(p, i, true)) << layer << " " << p << " " << i;
        ASSERT_EQ(cache.Value(layer, p)[i], value_of(p, i, false)) << layer << " " << p << " " << i;
      }
    }
  }
}

}  // namespace
}  // namespace warden::model
