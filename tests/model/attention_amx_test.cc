// The AMX prefill attention (attention_amx.h) against the float32 kernel (AttendHeads) on
// random inputs, row by row over each row's own visible keys: bf16-level agreement, keys a
// row must not see ignored, every row count and key counts with partial tiles.
#include "model/kernels/attention_amx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/kernels/attention.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomFloats;

constexpr int kHeadDim = 64, kHeads = 8;

struct Case {
  std::vector<float> keys, values, queries, sinks;
  std::vector<const float*> key_rows, value_rows;
};

Case MakeCase(int n, int rows, std::mt19937& rng) {
  Case c;
  c.keys = RandomFloats(static_cast<size_t>(n) * kHeadDim, rng);
  c.values = RandomFloats(static_cast<size_t>(n) * kHeadDim, rng);
  c.queries = RandomFloats(static_cast<size_t>(rows) * kHeads * kHeadDim, rng, 2.0f);
  c.sinks = RandomFloats(kHeads, rng);
  // The last keys are the ones earlier rows must not see: aligned with every query (large
  // scores) and with large values, so a row that saw them would be far off.
  for (int p = std::max(0, n - rows + 1); p < n; ++p) {
    for (int i = 0; i < kHeadDim; ++i) {
      c.keys[static_cast<size_t>(p) * kHeadDim + i] = 3.0f * c.queries[i];
      c.values[static_cast<size_t>(p) * kHeadDim + i] = 40.0f;
    }
  }
  for (int p = 0; p < n; ++p) {
    c.key_rows.push_back(&c.keys[static_cast<size_t>(p) * kHeadDim]);
    c.value_rows.push_back(&c.values[static_cast<size_t>(p) * kHeadDim]);
  }
  return c;
}

TEST(AttentionAmx, MatchesFloat32AttentionOverEachRowsVisibleKeys) {
  if (!AmxAttentionAvailable(kHeadDim)) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the kernel)";
  std::mt19937 rng(21);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  AmxAttentionScratch scratch;
  AmxAttentionKv kv;
  for (int n : {4, 17, 100, 333}) {
    for (int rows = 1; rows * kHeads <= kAmxAttentionMaxQueries; ++rows) {
      Case c = MakeCase(n, rows, rng);
      kv.Load(c.key_rows.data(), c.value_rows.data(), n, kHeadDim);
      std::vector<int> visible(rows);
      for (int r = 0; r < rows; ++r) visible[r] = n - rows + 1 + r;  // causal: row r is position n - rows + r
      std::vector<float> out(static_cast<size_t>(rows) * kHeads * kHeadDim, -1.0f);
      AmxAttentionRows in;
      in.queries = c.queries.data();
      in.query_stride = kHeads * kHeadDim;
      in.sinks = c.sinks.data();
      in.heads = kHeads;
      in.rows = rows;
      in.visible = visible.data();
      in.scale = scale;
      in.out = out.data();
      in.out_stride = kHeads * kHeadDim;
      AttendRowsAmx(kv, in, &scratch);
      for (int r = 0; r < rows; ++r) {
        AttentionGroupInput ref;
        ref.queries = &c.queries[static_cast<size_t>(r) * kHeads * kHeadDim];
        ref.sinks = c.sinks.data();
        ref.heads = kHeads;
        ref.keys = c.key_rows.data();
        ref.values = c.value_rows.data();
        ref.n = visible[r];
        ref.head_dim = kHeadDim;
        ref.scale = scale;
        std::vector<float> scores(static_cast<size_t>(kHeads) * n), expected(kHeads * kHeadDim);
        AttendHeads(ref, scores.data(), expected.data());
        // bf16-level error of a weighted mean: relative to the largest value the row sees
        // (1 for the rows that do not see the last keys' 40s; had they seen them, ~40 off).
        float largest = 0.0f;
        for (int p = 0; p < visible[r]; ++p) {
          for (int i = 0; i < kHeadDim; ++i) largest = std::max(largest, std::fabs(c.value_rows[p][i]));
        }
        double worst = 0.0;
        for (int i = 0; i < kHeads * kHeadDim; ++i) {
          worst = std::max(worst, std::fabs(double{out[r * kHeads * kHeadDim + i]} - expected[i]));
        }
        EXPECT_LT(worst, 0.01 * largest) << "n=" << n << " rows=" << rows << " row=" << r;
      }
    }
  }
}

TEST(AttentionAmx, AvailabilityNeedsWholeTileHeadWidths) {
  EXPECT_FALSE(AmxAttentionAvailable(16));
  EXPECT_FALSE(AmxAttentionAvailable(48));
  EXPECT_FALSE(AmxAttentionAvailable(0));
}

}  // namespace
}  // namespace warden::model
