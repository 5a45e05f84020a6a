// Kernels: the AVX-512 and portable MXFP4 / bf16 products agree with each other and with a
// double-precision reference on random inputs; MXFP4 decoding follows the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/kernels/amx_dense.h"
#include "model/kernels/bandwidth.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/expert_matmul.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/ops.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomBf16;
using testing::RandomFloats;
using testing::RandomMxfp4;

TEST(Mxfp4, DecodesLowNibbleAsEvenElementWithScale) {
  // Byte 0x1F: low nibble 0xF (-6) is element 0, high nibble 0x1 (+0.5) is element 1.
  std::vector<uint8_t> blocks(16, 0), scales = {128};
  blocks[0] = 0x1F;
  blocks[1] = 0x97;  // element 2: 0x7 (+6), element 3: 0x9 (-0.5)
  const Mxfp4Matrix m{blocks.data(), scales.data(), 1, 32};
  EXPECT_EQ(Mxfp4Element(m, 0, 0), -12.0f);
  EXPECT_EQ(Mxfp4Element(m, 0, 1), 1.0f);
  EXPECT_EQ(Mxfp4Element(m, 0, 2), 12.0f);
  EXPECT_EQ(Mxfp4Element(m, 0, 3), -1.0f);
  EXPECT_EQ(Mxfp4Element(m, 0, 4), 0.0f);
}

// The kernels this CPU can run, portable first.
std::vector<KernelIsa> RunnableIsas() {
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (CpuHasAvx2Fma()) isas.push_back(KernelIsa::kAvx2);
  if (CpuHasAvx512()) isas.push_back(KernelIsa::kAvx512);
  return isas;
}

TEST(Mxfp4, EveryIsaMatchesDoubleReferenceOnRandomInputs) {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  // 3 and 37 blocks per row: odd counts (the AVX-512 kernel takes blocks in pairs).
  for (auto [rows, cols] : {std::pair{37, 96}, std::pair{5, 32 * 37}}) {
    // 37 and 40 rows of x: the AVX2 kernel's tiled product (from 32 rows; 3 rows of x per
    // tile, 36 per block, 4 rows of W per tile with partial ones at 37 and 5 rows).
    for (int m : {1, 3, 8, 11, 37, 40}) {
      RandomMxfp4 w(rows, cols, rng);
      const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
      const std::vector<float> bias = RandomFloats(rows, rng);
      for (KernelIsa isa : RunnableIsas()) {
        std::vector<float> y(static_cast<size_t>(m) * rows);
        Mxfp4Matmul(w.matrix, x.data(), m, bias.data(), y.data(), &pool, isa);
        for (int t = 0; t < m; ++t) {
          for (int r = 0; r < rows; ++r) {
            double expected = bias[r], magnitude = std::fabs(bias[r]);
            for (int c = 0; c < cols; ++c) {
              const double product = double{Mxfp4Element(w.matrix, r, c)} * x[t * cols + c];
              expected += product;
              magnitude += std::fabs(product);
            }
            EXPECT_NEAR(y[t * rows + r], expected, 2e-5 * magnitude)
                << "isa=" << static_cast<int>(isa) << " cols=" << cols << " m=" << m << " t=" << t << " r=" << r;
          }
        }
      }
    }
  }
  if (!CpuHasAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU; only the portable and AVX2 kernels were checked";
}

// The AVX2 kernel reads each block's values from tables already scaled by its exponent
// byte: every byte's values must come out exactly (subnormal at 0, 6 * 2^125 at 252),
// decoded alone (one row of x) or into L1 for several rows. From 253 on the largest values
// are +-inf (at 255 all, the scale itself being inf): no output may then be a wrong finite
// number.
TEST(Mxfp4, Avx2KernelGivesEveryScaledValueExactly) {
  if (!CpuHasAvx2Fma()) GTEST_SKIP() << "no AVX2 on this CPU";
  // Byte j holds codes j (element 2j) and 15 - j (element 2j + 1): every code twice.
  std::vector<uint8_t> blocks(16);
  for (int j = 0; j < 16; ++j) blocks[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<float> identity(32 * 32, 0.0f);
  for (int t = 0; t < 32; ++t) identity[t * 32 + t] = 1.0f;
  for (int s = 0; s < 256; ++s) {
    const std::vector<uint8_t> scales = {static_cast<uint8_t>(s)};
    const Mxfp4Matrix w{blocks.data(), scales.data(), 1, 32};
    std::vector<float> together(32);
    Mxfp4Matmul(w, identity.data(), 32, nullptr, together.data(), nullptr, KernelIsa::kAvx2);
    for (int t = 0; t < 32; ++t) {
      float alone = 0.0f;
      Mxfp4Matmul(w, identity.data() + t * 32, 1, nullptr, &alone, nullptr, KernelIsa::kAvx2);
      if (s > 252) {
        // Some of the block's values overflow to +-inf, which times the zeros of x is NaN.
        for (float y : {together[t], alone}) EXPECT_TRUE(!std::isfinite(y) || y == Mxfp4Element(w, 0, t)) << t;
      } else {
        EXPECT_EQ(together[t], Mxfp4Element(w, 0, t)) << "s=" << s << " t=" << t;
        EXPECT_EQ(alone, Mxfp4Element(w, 0, t)) << "s=" << s << " t=" << t;
      }
    }
  }
}

// Batched decode must not change a sequence's numbers: a row of x gets the same bits from
// the AVX2 kernel alone (decoding as it goes) as among 31 (W decoded into L1, rows of x in
// threes). From 32 rows (a prefill's, rounded by the engine) the tiled product runs.
TEST(Mxfp4, Avx2KernelGivesARowTheSameBitsAloneOrWithOthers) {
  if (!CpuHasAvx2Fma()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(17);
  ThreadPool pool(2);
  const int rows = 29, cols = 32 * 35, m = 31;
  RandomMxfp4 w(rows, cols, rng);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
  const std::vector<float> bias = RandomFloats(rows, rng);
  std::vector<float> together(static_cast<size_t>(m) * rows);
  Mxfp4Matmul(w.matrix, x.data(), m, bias.data(), together.data(), &pool, KernelIsa::kAvx2);
  for (int t = 0; t < m; ++t) {
    std::vector<float> alone(rows);
    Mxfp4Matmul(w.matrix, x.data() + static_cast<size_t>(t) * cols, 1, bias.data(), alone.data(), &pool,
                KernelIsa::kAvx2);
    for (int r = 0; r < rows; ++r) EXPECT_EQ(together[t * rows + r], alone[r]) << "t=" << t << " r=" << r;
  }
}

// Both implementations write the exact value of every element, for the realistic band of
// scale bytes and for every byte 0..255 (subnormal results at 0, infinities and NaN at the
// top); with 1, 17 and 31 blocks per row.
TEST(Mxfp4, DequantizeToBf16IsExactInBothIsas) {
  std::mt19937 rng(3);
  for (int cols : {32, 32 * 17, 32 * 31}) {
    for (int scale_kind = 0; scale_kind < 2; ++scale_kind) {
      RandomMxfp4 w(9, cols, rng);
      for (size_t i = 0; i < w.scales.size(); ++i) {
        if (scale_kind == 1) w.scales[i] = static_cast<uint8_t>(i * 7);
      }
      std::vector<KernelIsa> isas = RunnableIsas();
      isas.push_back(KernelIsa::kBest);  // with VBMI where the CPU has it
      for (KernelIsa isa : isas) {
        std::vector<uint16_t> out(static_cast<size_t>(9) * cols);
        DequantizeMxfp4ToBf16(w.matrix, out.data(), nullptr, isa);
        for (int r = 0; r < 9; ++r) {
          for (int c = 0; c < cols; ++c) {
            const float expected = Mxfp4Element(w.matrix, r, c);
            const float got = Bf16ToFloat(out[static_cast<size_t>(r) * cols + c]);
            if (std::isnan(expected)) {
              ASSERT_TRUE(std::isnan(got)) << "isa=" << static_cast<int>(isa) << " " << r << "," << c;
            } else {
              ASSERT_EQ(got, expected) << "isa=" << static_cast<int>(isa) << " scales=" << scale_kind << " " << r
                                       << "," << c;
              ASSERT_EQ(std::signbit(got), std::signbit(expected)) << r << "," << c;
            }
          }
        }
      }
    }
  }
}

TEST(ExpertMatmul, PackedAndDequantizedPathsMatchDoubleReference) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(13);
  const int rows = 40, cols = 128, m = 21;
  RandomMxfp4 w(rows, cols, rng);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
  const std::vector<float> bias = RandomFloats(rows, rng);
  for (ExpertPath path : {ExpertPath::kPacked, ExpertPath::kDequantizeOneDnn}) {
    std::vector<float> y(static_cast<size_t>(m) * rows);
    ASSERT_TRUE(ExpertMatmul(**ctx, w.matrix, x.data(), m, bias.data(), y.data(), path).ok());
    for (int t = 0; t < m; ++t) {
      for (int r = 0; r < rows; ++r) {
        double expected = bias[r];
        for (int c = 0; c < cols; ++c) expected += double{Mxfp4Element(w.matrix, r, c)} * x[t * cols + c];
        EXPECT_NEAR(y[t * rows + r], expected, 1e-4 * (1 + std::fabs(expected)));
      }
    }
  }
}

// The fused AMX path keeps float32 accuracy (x split into hi + lo) for any row count: one
// pass of up to 16 rows of x, several passes, and rows of W spanning several of its
// chunks and both threads, in both of its chunk layouts; rounded, the exact products of
// bf16(x) (up to 32 rows of x per pass). Skipped without AMX.
TEST(ExpertMatmul, FusedAmxPathMatchesDoubleReference) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(17);
  // Checks one product; false (and the test skipped) where AMX is missing.
  auto check = [&](const RandomMxfp4& w, const std::vector<float>& bias, int m, bool rounded) {
    const int rows = w.matrix.rows, cols = w.matrix.cols;
    const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
    std::vector<float> y(static_cast<size_t>(m) * rows, -1.0f);
    const ExpertPath path = rounded ? ExpertPath::kFusedAmxRounded : ExpertPath::kFusedAmx;
    const absl::Status status = ExpertMatmul(**ctx, w.matrix, x.data(), m, bias.data(), y.data(), path);
    if (status.code() == absl::StatusCode::kFailedPrecondition) return false;
    EXPECT_TRUE(status.ok()) << status;
    for (int t = 0; t < m; ++t) {
      for (int r = 0; r < rows; ++r) {
        // Rounded: the exact products of bf16(x), summed in float32.
        double expected = bias[r], magnitude = std::fabs(bias[r]);
        for (int c = 0; c < cols; ++c) {
          const float xc = rounded ? Bf16ToFloat(FloatToBf16(x[t * cols + c])) : x[t * cols + c];
          const double product = double{Mxfp4Element(w.matrix, r, c)} * xc;
          expected += product;
          magnitude += std::fabs(product);
        }
        EXPECT_NEAR(y[t * rows + r], expected, 2e-5 * magnitude)
            << "rounded=" << rounded << " m=" << m << " t=" << t << " r=" << r;
        if (::testing::Test::HasFailure()) return true;
      }
    }
    return true;
  };
  // 176 rows: 16-row tiles in 64-row L2 chunks; 96 and 64 rows: 32-row blocks expanded into
  // L1 256 columns at a time (320 columns: a full and a partial chunk) while one pass takes
  // all of x (16 rows, or 32 rounded).
  for (const auto& [rows, cols] : {std::pair{176, 96}, std::pair{96, 64}, std::pair{64, 320}}) {
    RandomMxfp4 w(rows, cols, rng);
    const std::vector<float> bias = RandomFloats(rows, rng);
    for (int m : {1, 5, 16, 17, 32, 33, 40}) {
      for (const bool rounded : {false, true}) {
        if (!check(w, bias, m, rounded)) GTEST_SKIP() << "no AMX on this CPU";
        if (HasFailure()) return;
      }
    }
  }
  // A W whose rows are not whole tiles is refused, not half done.
  const int cols = 96;
  RandomMxfp4 odd(40, cols, rng);
  std::vector<float> x(static_cast<size_t>(8) * cols, 1.0f), y(static_cast<size_t>(8) * 40);
  EXPECT_EQ(ExpertMatmul(**ctx, odd.matrix, x.data(), 8, nullptr, y.data(), ExpertPath::kFusedAmx).code(),
            absl::StatusCode::kFailedPrecondition);
}

// The engine keeps its spinning workers for steps whose products all run on our own
// kernels, so these answers must match where DenseMatmul and ExpertMatmul send a product.
TEST(KernelRouting, ReportsWhichProductsRunOnOneDnn) {
  const bool amx = amx_dense::Available() && CpuHasAvx512();
  // Without a oneDNN bf16 matmul (CPUs without AVX-512) no automatic path runs on oneDNN.
  const bool onednn = OneDnnHasBf16Matmul();
  for (const int cols : {64, 2880, 70}) {
    EXPECT_FALSE(DenseMatmulRunsOnOneDnn(0, cols));
    for (int m = 1; m <= 8; ++m) EXPECT_FALSE(DenseMatmulRunsOnOneDnn(m, cols)) << m << " x " << cols;
    const bool amx_cols = amx && cols % amx_dense::kTileDepth == 0;
    // kAuto: AMX (float32 accuracy) up to 31 rows, rounded oneDNN from 32; kAutoFloat32:
    // AMX at any row count from 3 (without AMX, oneDNN's split product from 9 rows).
    for (const int m : {9, 16, 17, 31}) {
      EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols), onednn && !amx_cols) << m << " x " << cols;
      EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols, DensePath::kAutoFloat32), onednn && !amx_cols) << m << " x " << cols;
    }
    for (const int m : {32, 33, 64, 65, 512}) {
      EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols), onednn) << m << " x " << cols;
      EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols, DensePath::kAutoFloat32), onednn && !amx_cols) << m << " x " << cols;
    }
    // kAutoRounded: AMX for 3-192 rows, oneDNN for the rest.
    for (const int m : {1, 2, 193, 512}) EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols, DensePath::kAutoRounded), onednn) << m;
    for (const int m : {3, 32, 64, 65, 192}) {
      EXPECT_EQ(DenseMatmulRunsOnOneDnn(m, cols, DensePath::kAutoRounded), onednn && !amx_cols) << m << " x " << cols;
    }
  }
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(5);
  RandomMxfp4 w(64, 64, rng);
  std::vector<float> x(static_cast<size_t>(4) * 64, 1.0f), y(static_cast<size_t>(4) * 64);
  const bool fused = ExpertMatmul(**ctx, w.matrix, x.data(), 4, nullptr, y.data(), ExpertPath::kFusedAmx).ok();
  EXPECT_FALSE(ExpertMatmulRunsOnOneDnn(w.matrix, 0));
  for (int m = 1; m <= 64; ++m) {
    // Below 12 rows the packed kernel or the fused path; from there oneDNN unless fused runs.
    EXPECT_EQ(ExpertMatmulRunsOnOneDnn(w.matrix, m), onednn && !fused && m >= 12) << m;
    EXPECT_EQ(ExpertMatmulRunsOnOneDnn(w.matrix, m, ExpertPath::kAutoRounded), onednn && !fused && m >= 12) << m;
    EXPECT_FALSE(ExpertMatmulRunsOnOneDnn(w.matrix, m, ExpertPath::kPacked)) << m;
    EXPECT_TRUE(ExpertMatmulRunsOnOneDnn(w.matrix, m, ExpertPath::kDequantizeOneDnn)) << m;
    // Int8 activations never take the fused path.
    EXPECT_EQ(ExpertMatmulRunsOnOneDnn(w.matrix, m, ExpertPath::kAuto, Mxfp4Activations::kInt8), onednn && m >= 12) << m;
  }
}

TEST(DenseMatmul, DirectAndOneDnnPathsMatchDoubleReference) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(11);
  // Columns not a multiple of 16 (the tail loop); 1100 columns also span two full column
  // blocks and a partial one of the blocked few-token tile (paired_rows.h), and 45 rows
  // leave a partial row block and an odd row.
  for (const int cols : {70, 1100}) {
    const int rows = 45;
    const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
    const Bf16Matrix w{wbits.data(), rows, cols};
    // 38 and 40: the AVX2 rows' tiled product (from 32 rows of x; 70 columns leave a tail
    // of 6 past the 8-wide steps, 45 rows a partial tile of W).
    for (int m : {1, 2, 3, 5, 8, 9, 20, 38, 40}) {
      const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
      const std::vector<float> bias = RandomFloats(rows, rng);
      std::vector<std::vector<float>> results;
      for (auto [path, isa] : {std::pair{DensePath::kDirect, KernelIsa::kPortable},
                               std::pair{DensePath::kDirect, KernelIsa::kAvx2},
                               std::pair{DensePath::kDirect, KernelIsa::kAvx512},
                               std::pair{DensePath::kOneDnn, KernelIsa::kBest}}) {
        if (isa == KernelIsa::kAvx512 && !CpuHasAvx512()) continue;
        if (isa == KernelIsa::kAvx2 && !CpuHasAvx2Fma()) continue;
        std::vector<float> y(static_cast<size_t>(m) * rows);
        ASSERT_TRUE(DenseMatmul(**ctx, w, x.data(), m, bias.data(), y.data(), path, isa).ok());
        results.push_back(std::move(y));
      }
      for (int t = 0; t < m; ++t) {
        for (int r = 0; r < rows; ++r) {
          double expected = bias[r];
          for (int c = 0; c < cols; ++c) expected += double{Bf16ToFloat(wbits[r * cols + c])} * x[t * cols + c];
          for (const auto& y : results) {
            EXPECT_NEAR(y[t * rows + r], expected, 1e-5 * cols) << "m=" << m << " cols=" << cols;
          }
        }
      }
    }
  }
}

// The product the oneDNN paths run where oneDNN has no bf16 matmul (no AVX-512), tested on
// every CPU: against a double reference on bf16 inputs, with and without a bias, for column
// counts around the 8-wide partial sums and rows enough to split over the pool.
TEST(DenseMatmul, PortableBf16ProductMatchesDoubleReference) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(12);
  for (const int k : {1, 7, 8, 70, 1100}) {
    for (const int m : {1, 3, 33}) {
      const int n = 300;
      const std::vector<uint16_t> w = RandomBf16(static_cast<size_t>(n) * k, rng);
      const std::vector<uint16_t> x = RandomBf16(static_cast<size_t>(m) * k, rng);
      const std::vector<float> bias = RandomFloats(n, rng);
      for (const auto& [b, isa] : {std::pair{static_cast<const float*>(nullptr), KernelIsa::kPortable},
                                  std::pair{bias.data(), KernelIsa::kPortable},
                                  std::pair{static_cast<const float*>(nullptr), KernelIsa::kAvx2},
                                  std::pair{bias.data(), KernelIsa::kAvx2}}) {
        if (isa == KernelIsa::kAvx2 && !CpuHasAvx2Fma()) continue;
        std::vector<float> y(static_cast<size_t>(m) * n, std::nanf(""));
        PortableBf16Product(**ctx, m, k, n, x.data(), w.data(), b, y.data(), isa);
        for (int t = 0; t < m; ++t) {
          for (int r = 0; r < n; ++r) {
            double expected = b != nullptr ? b[r] : 0.0;
            for (int c = 0; c < k; ++c) expected += double{Bf16ToFloat(w[r * k + c])} * Bf16ToFloat(x[t * k + c]);
            ASSERT_NEAR(y[t * n + r], expected, 1e-5 * k + 1e-6)
                << "m=" << m << " k=" << k << " r=" << r << " isa=" << static_cast<int>(isa);
          }
        }
      }
    }
  }
}

// The AVX2 rows take rows of x three at a time, in column slices below 32 rows and against
// widened tiles of W from 32: a row must get the same bits whatever shares its product (the
// engine's sequences must not depend on their step's company), at every row count.
TEST(DenseMatmul, Avx2RowsGiveARowTheSameBitsAloneOrWithOthers) {
  if (!CpuHasAvx2Fma()) GTEST_SKIP() << "no AVX2 on this CPU";
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(13);
  // 1100 columns: two whole slices of 512, then 64 and a 12-column tail past the last 16.
  const int rows = 37, cols = 1100, max_m = 40;
  const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
  const Bf16Matrix w{wbits.data(), rows, cols};
  const std::vector<float> x = RandomFloats(static_cast<size_t>(max_m) * cols, rng);
  std::vector<float> alone(static_cast<size_t>(max_m) * rows);
  for (int t = 0; t < max_m; ++t) {
    ASSERT_TRUE(DenseMatmul(**ctx, w, x.data() + static_cast<size_t>(t) * cols, 1, nullptr,
                            alone.data() + static_cast<size_t>(t) * rows, DensePath::kDirect, KernelIsa::kAvx2)
                    .ok());
  }
  for (int m : {2, 3, 4, 7, 31, 32, 40}) {
    std::vector<float> together(static_cast<size_t>(m) * rows);
    ASSERT_TRUE(
        DenseMatmul(**ctx, w, x.data(), m, nullptr, together.data(), DensePath::kDirect, KernelIsa::kAvx2).ok());
    for (int i = 0; i < m * rows; ++i) ASSERT_EQ(together[i], alone[i]) << "m=" << m << " t=" << i / rows << " r=" << i % rows;
  }
}

TEST(Ops, SwiGluClampsGateAboveAndLinearBothSidesAndAddsOne) {
  const float h[6] = {10.0f, -10.0f, 1.0f, 0.5f, -2.0f, 20.0f};
  float out[3];
  SwiGlu(h, 3, 7.0f, 1.702f, out);
  auto glu = [](float g) { return g / (1.0f + std::exp(-1.702f * g)); };
  EXPECT_NEAR(out[0], glu(7.0f) * (-7.0f + 1.0f), 1e-5);
  EXPECT_NEAR(out[1], glu(1.0f) * 1.5f, 1e-6);
  EXPECT_NEAR(out[2], glu(-2.0f) * 8.0f, 1e-6);
}

TEST(Ops, SwiGluAvx512MatchesPortableOnRandomInputsAndKeepsNaN) {
  if (!CpuHasAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU; the portable SwiGlu is checked above";
  std::mt19937 rng(5);
  for (int n : {1, 15, 16, 17, 2880}) {
    // Gates and linears far past the limit both ways, so both clamps and both sigmoid
    // branches (and exp arguments the portable code overflows to inf) are taken.
    std::vector<float> h = testing::RandomFloats(2 * static_cast<size_t>(n), rng, 150.0f);
    for (size_t i = 0; i < h.size(); i += 7) h[i] *= 0.01f;  // and many near zero
    if (n > 1) h[2] = std::nanf("");                          // a NaN gate
    std::vector<float> fast(n), portable(n);
    SwiGlu(h.data(), n, 7.0f, 1.702f, fast.data(), KernelIsa::kAvx512);
    SwiGlu(h.data(), n, 7.0f, 1.702f, portable.data(), KernelIsa::kPortable);
    for (int i = 0; i < n; ++i) {
      if (std::isnan(portable[i])) {
        EXPECT_TRUE(std::isnan(fast[i])) << "n " << n << " i " << i;
        continue;
      }
      EXPECT_NEAR(fast[i], portable[i], 1e-6f * std::max(1.0f, std::fabs(portable[i])))
          << "n " << n << " i " << i << " gate " << h[2 * i] << " linear " << h[2 * i + 1];
    }
    if (n > 1) {
      EXPECT_TRUE(std::isnan(fast[1]));
    }
  }
}

TEST(Ops, RopeRotatesHalfSplitPairs) {
  float v[4] = {1.0f, 2.0f, 3.0f, 4.0f};  // pairs (1,3) and (2,4)
  const float cos[2] = {0.0f, 1.0f}, sin[2] = {1.0f, 0.0f};
  ApplyRope(v, cos, sin, 4);
  EXPECT_FLOAT_EQ(v[0], -3.0f);  // 1*0 - 3*1
  EXPECT_FLOAT_EQ(v[2], 1.0f);   // 3*0 + 1*1
  EXPECT_FLOAT_EQ(v[1], 2.0f);
  EXPECT_FLOAT_EQ(v[3], 4.0f);
}

TEST(ReadBandwidth, ReportsAPositiveRateForAnyBufferSize) {
  ThreadPool pool(2);
  // 1 MiB (cache-resident: fast), and a size that is not a multiple of the 256-byte step.
  EXPECT_GT(MeasureReadBandwidthGbPerS(pool, size_t{1} << 20, 1), 0.0);
  EXPECT_GT(MeasureReadBandwidthGbPerS(pool, 1000, 1), 0.0);
}

}  // namespace
}  // namespace warden::model
