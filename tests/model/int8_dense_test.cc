// The fast mode's int8 per-channel dense kernel against a float reference.
#include "model/kernels/int8_dense.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "model/kernels/cpu_features.h"
#include "model/kernels/int8_dense_amx.h"
#include "model/kernels/int8_dense_tiles.h"

namespace warden::model {
namespace {

struct Case {
  std::vector<uint16_t> w;
  std::vector<float> x, bias;
  int rows, cols, m;
};

Case MakeCase(int rows, int cols, int m) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  Case c{{}, {}, {}, rows, cols, m};
  for (int i = 0; i < rows * cols; ++i) c.w.push_back(FloatToBf16(normal(rng)));
  for (int i = 0; i < m * cols; ++i) c.x.push_back(normal(rng) * 20);
  for (int i = 0; i < rows; ++i) c.bias.push_back(normal(rng));
  return c;
}

// y of the bf16 weights in double precision.
std::vector<double> Exact(const Case& c) {
  std::vector<double> y(static_cast<size_t>(c.m) * c.rows);
  for (int t = 0; t < c.m; ++t) {
    for (int r = 0; r < c.rows; ++r) {
      double acc = c.bias[r];
      for (int k = 0; k < c.cols; ++k) acc += double{Bf16ToFloat(c.w[r * c.cols + k])} * c.x[t * c.cols + k];
      y[t * c.rows + r] = acc;
    }
  }
  return y;
}

TEST(Int8Dense, QuantizedProductIsWithinOnePercentOfTheBf16Product) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok());
  // Columns not a multiple of 16 (the tail path), an odd row count (the kernel pairs rows),
  // and token counts below, at and above the 8-token tile.
  for (int m : {1, 5, 8, 11}) {
    const Case c = MakeCase(37, 200, m);
    const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
    const std::vector<double> exact = Exact(c);
    double scale = 0;
    for (double v : exact) scale = std::max(scale, std::fabs(v));
    std::vector<KernelIsa> isas = {KernelIsa::kPortable};
    if (CpuHasAvx512()) isas.push_back(KernelIsa::kAvx512);
    for (KernelIsa isa : isas) {
      std::vector<float> y(exact.size());
      Int8DenseMatmul(**ctx, q, c.x.data(), c.m, c.bias.data(), y.data(), isa);
      double max_diff = 0;
      for (size_t i = 0; i < y.size(); ++i) max_diff = std::max(max_diff, std::fabs(y[i] - exact[i]));
      EXPECT_LT(max_diff, 0.01 * scale) << "isa " << static_cast<int>(isa) << " m " << m;
      EXPECT_GT(max_diff, 0.0);  // it is an approximation, not the bf16 path
    }
  }
}

// 1100 columns are 8 full chunks of 128 and a partial one (with a partial 32-value group):
// two full column blocks and a partial one of the blocked tile (3 tokens and more), 37 rows
// a partial row block. Every kernel gives the portable one's results bit for bit (one
// arithmetic: int8_dense_tiles.h).
TEST(Int8Dense, BlockedTilesMatchThePortableKernel) {
  if (!CpuHasAvx512()) GTEST_SKIP() << "no AVX-512";
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok());
  for (int m : {3, 8, 9}) {
    const Case c = MakeCase(37, 1100, m);
    const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
    std::vector<float> portable(static_cast<size_t>(m) * c.rows), avx512(portable.size());
    Int8DenseMatmul(**ctx, q, c.x.data(), c.m, c.bias.data(), portable.data(), KernelIsa::kPortable);
    Int8DenseMatmul(**ctx, q, c.x.data(), c.m, c.bias.data(), avx512.data(), KernelIsa::kAvx512);
    EXPECT_EQ(avx512, portable) << "m " << m;
    if (!CpuHasAvx512Vnni()) continue;
    std::vector<float> vnni(portable.size());
    Int8DenseMatmul(**ctx, q, c.x.data(), c.m, c.bias.data(), vnni.data(), KernelIsa::kBest);
    EXPECT_EQ(vnni, avx512) << "m " << m;
  }
}

// The AVX2 rows (CPUs without AVX-512) give the portable kernel's results bit for bit:
// decode-sized and larger m, columns with a partial 16-value step (200, 1100) or none (2880).
TEST(Int8Dense, Avx2RowsMatchThePortableKernel) {
  if (!CpuHasAvx2Fma()) GTEST_SKIP() << "no AVX2";
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok());
  // 200: a partial chunk only; 1100, 2880: whole chunks and a partial one; 4096: whole
  // chunks only. 16 and 17 tokens: one and two passes of the tokens a row keeps at once.
  for (int cols : {200, 1100, 2880, 4096}) {
    for (int m : {1, 2, 3, 9, 16, 17}) {
      const Case c = MakeCase(37, cols, m);
      const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
      std::vector<float> portable(static_cast<size_t>(m) * c.rows), avx2(portable.size());
      Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), portable.data(), KernelIsa::kPortable);
      Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), avx2.data(), KernelIsa::kAvx2);
      EXPECT_EQ(avx2, portable) << "cols " << cols << " m " << m;
    }
  }
}

// y of the int8 weights (q * row scale) in double precision: what remains when only the
// activations' rounding differs.
std::vector<double> OfQuantisedWeights(const Case& c, const Int8Matrix& q) {
  std::vector<double> y(static_cast<size_t>(c.m) * c.rows);
  for (int t = 0; t < c.m; ++t) {
    for (int r = 0; r < c.rows; ++r) {
      double acc = 0;
      for (int k = 0; k < c.cols; ++k) acc += static_cast<double>(q.data[r * c.cols + k]) * c.x[t * c.cols + k];
      y[t * c.rows + r] = acc * q.scales[r] + c.bias[r];
    }
  }
  return y;
}

// One and two tokens (decode) take int16 activations: every kernel gives the portable
// one's results bit for bit, and they stay within 1e-4 of the output range of the
// product with float activations (int16 rounds x to 1/65534 of its chunk's largest value;
// int8 activations would be ~250 times coarser). Column counts with a partial 32-value
// group (200), a partial 128-value chunk (2880) and neither (4096); an odd row count.
TEST(Int8Dense, DecodeTokensUseInt16ActivationsOnEveryPath) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok());
  for (int cols : {200, 2880, 4096}) {
    for (int m : {1, 2}) {
      const Case c = MakeCase(37, cols, m);
      const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
      const std::vector<double> reference = OfQuantisedWeights(c, q);
      double scale = 0;
      for (double v : reference) scale = std::max(scale, std::fabs(v));
      std::vector<float> portable(reference.size()), avx512(reference.size());
      Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), portable.data(), KernelIsa::kPortable);
      double max_diff = 0;
      for (size_t i = 0; i < reference.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(portable[i] - reference[i]));
      }
      EXPECT_LT(max_diff, 1e-4 * scale) << "cols " << cols << " m " << m;
      if (!CpuHasAvx512()) continue;
      Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), avx512.data(), KernelIsa::kAvx512);
      EXPECT_EQ(avx512, portable) << "cols " << cols << " m " << m;
      if (!CpuHasAvx512Vnni()) continue;
      std::vector<float> vnni(reference.size());
      Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), vnni.data(), KernelIsa::kBest);
      EXPECT_EQ(vnni, avx512) << "cols " << cols << " m " << m;
    }
  }
}

// The fast mode's decode steps rely on this: a token's outputs are the same bits whether it
// is multiplied alone or with up to 16 others, on every kernel, and 3-16 tokens take AMX
// where the CPU has it. 2880 columns (the 20b shape: 22.5 chunks, tile steps of 64), 4096
// (whole chunks), 1100 (too ragged for AMX: the VNNI tiles); 37 rows: two 16-row AMX tiles
// and 5 rows left to the VNNI kernel.
TEST(Int8Dense, EveryKernelAndTokenCountGivesEachTokenTheSameBits) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok());
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (CpuHasAvx512()) isas.insert(isas.end(), {KernelIsa::kAvx512, KernelIsa::kBest});
  for (int cols : {2880, 4096, 1100}) {
    const Case c = MakeCase(37, cols, 17);
    const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
    // Each token alone, portable.
    std::vector<float> alone(static_cast<size_t>(c.m) * c.rows);
    for (int t = 0; t < c.m; ++t) {
      Int8DenseMatmul(**ctx, q, c.x.data() + static_cast<size_t>(t) * cols, 1, c.bias.data(),
                      alone.data() + static_cast<size_t>(t) * c.rows, KernelIsa::kPortable);
    }
    for (KernelIsa isa : isas) {
      for (int m = 1; m <= c.m; ++m) {
        std::vector<float> y(static_cast<size_t>(m) * c.rows);
        Int8DenseMatmul(**ctx, q, c.x.data(), m, c.bias.data(), y.data(), isa);
        EXPECT_TRUE(std::equal(y.begin(), y.end(), alone.begin()))
            << "cols " << cols << " m " << m << " isa " << static_cast<int>(isa)
            << (isa == KernelIsa::kBest && Int8DenseRunsOnAmx(m, cols) ? " (AMX)" : "");
      }
    }
  }
  if (!int8_dense_amx::Available()) GTEST_SKIP() << "no AMX-INT8: the AMX path was not exercised";
}

// The AMX path is exact for the extreme activations: int16 values of +-32767 (digits -128
// and 255) in every column, against the largest weights.
TEST(Int8Dense, AmxDigitsAreExactAtTheInt16Extremes) {
  if (!int8_dense_amx::Available()) GTEST_SKIP() << "no AMX-INT8";
  auto ctx = KernelContext::Create({1});
  ASSERT_TRUE(ctx.ok());
  constexpr int kRows = 16, kCols = 128, kTokens = 4;
  std::vector<uint16_t> w(kRows * kCols);
  for (int i = 0; i < kRows * kCols; ++i) w[i] = FloatToBf16(i % 3 == 0 ? -1.0f : 1.0f);
  std::vector<float> x(kTokens * kCols);
  for (int i = 0; i < kTokens * kCols; ++i) x[i] = (i / 7) % 2 == 0 ? 3.0f : -3.0f;  // all at +-max
  const Int8Matrix q = QuantizeRows(Bf16Matrix{w.data(), kRows, kCols}, (*ctx)->pool());
  std::vector<float> amx(kTokens * kRows), portable(amx.size());
  Int8DenseMatmul(**ctx, q, x.data(), kTokens, nullptr, amx.data(), KernelIsa::kBest);
  Int8DenseMatmul(**ctx, q, x.data(), kTokens, nullptr, portable.data(), KernelIsa::kPortable);
  EXPECT_EQ(amx, portable);
  // Row 0, token 0 by hand: weights +-1 exactly (scale 1/127 x 127), x +-3.
  double expected = 0;
  for (int k = 0; k < kCols; ++k) expected += (k % 3 == 0 ? -1.0 : 1.0) * ((k / 7) % 2 == 0 ? 3.0 : -3.0);
  EXPECT_NEAR(portable[0], expected, 1e-4 * kCols * 3);
}

// The AVX-512 quantiser writes the scalar one's values and steps bit for bit: random rows
// with a ragged last chunk, a chunk of zeros, one of subnormals (counted as zero), one with
// an infinity and one with a NaN (their steps NaN), values at the chunk maximum (+-32767).
TEST(Int8Dense, VectorQuantiserMatchesTheScalarOne) {
  if (!CpuHasAvx512()) GTEST_SKIP() << "no AVX-512";
  constexpr int kCols = 1100, kTokens = 3;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(kTokens * kCols);
  for (float& v : x) v = normal(rng);
  std::fill_n(x.begin() + 128, 128, 0.0f);
  std::fill_n(x.begin() + 256, 128, std::numeric_limits<float>::denorm_min() * 7);
  x[kCols + 300] = -std::numeric_limits<float>::infinity();
  x[kCols + 600] = std::numeric_limits<float>::quiet_NaN();
  x[2 * kCols + 5] = 1e30f;  // the rest of its chunk rounds to 0
  x[2 * kCols + 1090] = -50.0f;
  int8_dense_tiles::Int16Activations scalar, vector;
  int8_dense_tiles::QuantizeInt16(x.data(), kTokens, kCols, &scalar, KernelIsa::kPortable);
  int8_dense_tiles::QuantizeInt16(x.data(), kTokens, kCols, &vector, KernelIsa::kAvx512);
  EXPECT_TRUE(std::equal(scalar.values.begin(), scalar.values.end(), vector.values.begin(), vector.values.end()));
  ASSERT_EQ(scalar.steps.size(), vector.steps.size());
  for (size_t i = 0; i < scalar.steps.size(); ++i) {
    if (std::isnan(scalar.steps[i])) {
      EXPECT_TRUE(std::isnan(vector.steps[i])) << i;
    } else {
      EXPECT_EQ(scalar.steps[i], vector.steps[i]) << i;
    }
  }
  // The cases above happened: a zero step for the zeros and the subnormals, NaN steps for
  // the non-finite values, the extremes reached.
  EXPECT_EQ(scalar.steps[1], 0.0f);
  EXPECT_EQ(scalar.steps[2], 0.0f);
  EXPECT_TRUE(std::isnan(scalar.steps[scalar.chunks + 2]));
  EXPECT_TRUE(std::isnan(scalar.steps[scalar.chunks + 4]));
  EXPECT_EQ(scalar.values[2 * scalar.padded_cols + 5], 32767);
  EXPECT_EQ(scalar.values[2 * scalar.padded_cols + 1090], -32767);
}

// A non-finite activation makes its token's outputs NaN, as float32 products would, and
// leaves the other token alone.
TEST(Int8Dense, DecodeTokensPropagateNonFiniteActivations) {
  auto ctx = KernelContext::Create({1});
  ASSERT_TRUE(ctx.ok());
  Case c = MakeCase(4, 256, 2);
  c.x[256 + 40] = std::numeric_limits<float>::infinity();
  const Int8Matrix q = QuantizeRows(Bf16Matrix{c.w.data(), c.rows, c.cols}, (*ctx)->pool());
  std::vector<KernelIsa> isas = {KernelIsa::kPortable, KernelIsa::kBest};
  if (CpuHasAvx512()) isas.push_back(KernelIsa::kAvx512);
  for (KernelIsa isa : isas) {
    std::vector<float> y(2 * 4);
    Int8DenseMatmul(**ctx, q, c.x.data(), 2, nullptr, y.data(), isa);
    for (int r = 0; r < 4; ++r) {
      EXPECT_TRUE(std::isfinite(y[r])) << r;
      EXPECT_TRUE(std::isnan(y[4 + r])) << r;
    }
  }
}

TEST(Int8Dense, ZeroRowQuantisesToZeroWithoutDividingByZero) {
  auto ctx = KernelContext::Create({1});
  ASSERT_TRUE(ctx.ok());
  std::vector<uint16_t> w(2 * 16, 0);
  w[16] = FloatToBf16(2.0f);
  const Int8Matrix q = QuantizeRows(Bf16Matrix{w.data(), 2, 16}, (*ctx)->pool());
  EXPECT_EQ(q.scales[0], 0.0f);
  EXPECT_EQ(q.data[16], 127);
  std::vector<float> x(16, 1.0f), y(2);
  Int8DenseMatmul(**ctx, q, x.data(), 1, nullptr, y.data());
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FLOAT_EQ(y[1], 2.0f);
}

}  // namespace
}  // namespace warden::model
