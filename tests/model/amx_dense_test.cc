// The AMX bf16 kernel (amx_dense.h) against a double-precision reference, through
// DenseMatmul's kBest direct path, for every row count it takes and shapes with partial
// tiles; and the packing of x it relies on.
#include "model/kernels/amx_dense.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

#include "model/kernels/dense.h"
#include "model/kernels/kernel_context.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomBf16;
using testing::RandomFloats;

TEST(AmxDense, PackSplitsEachValueIntoHiAndLoColumnsInPairOrder) {
  const int m = 9, cols = 64;  // 18 columns: two groups
  std::mt19937 rng(3);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
  amx_dense::PackedActivations packed;
  amx_dense::Pack(x.data(), m, cols, &packed);
  ASSERT_EQ(packed.groups, 2);
  for (int t = 0; t < m; ++t) {
    for (int c = 0; c < cols; ++c) {
      auto at = [&](int column) {
        return Bf16ToFloat(packed.Group(column / 16)[(c / 2) * 32 + (column % 16) * 2 + (c & 1)]);
      };
      const float hi = at(t), lo = at(m + t);
      EXPECT_EQ(hi, Bf16ToFloat(FloatToBf16(x[t * cols + c])));
      EXPECT_NEAR(hi + lo, x[t * cols + c], std::fabs(x[t * cols + c]) * 1e-5);
    }
  }
  // Columns past 2m are zero.
  for (int p = 0; p < cols / 2; ++p) {
    for (int column = 2 * m - 16; column < 16; ++column) {
      EXPECT_EQ(packed.Group(1)[p * 32 + column * 2], 0);
      EXPECT_EQ(packed.Group(1)[p * 32 + column * 2 + 1], 0);
    }
  }
}

// Pack's values are FloatToBf16's bit for bit (the AVX-512 packing included): rounding
// ties both ways, zeros, subnormals, infinities, NaN; hi and lo columns, both part modes,
// every token count, with 3 tile depths of columns.
TEST(AmxDense, PackWritesFloatToBf16BitsForEveryValueAndColumn) {
  const int cols = 96;
  std::mt19937 rng(11);
  std::vector<float> x = RandomFloats(static_cast<size_t>(amx_dense::kMaxTokens * 2) * cols, rng);
  const uint32_t specials[] = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x80000000u, 0x00000001u, 0x807fffffu,
                               0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffffffffu, 0x7f7fffffu};
  for (size_t i = 0; i < std::size(specials); ++i) std::memcpy(&x[i * 7 + 3], &specials[i], sizeof(float));
  for (auto parts : {amx_dense::Bf16Parts::kHiAndLo, amx_dense::Bf16Parts::kHiOnly}) {
    for (int m = 1; m <= amx_dense::MaxPackedTokens(parts); ++m) {
      amx_dense::PackedActivations packed;
      amx_dense::Pack(x.data(), m, cols, &packed, parts);
      for (int t = 0; t < m; ++t) {
        for (int c = 0; c < cols; ++c) {
          auto at = [&](int column) { return packed.Group(column / 16)[(c / 2) * 32 + (column % 16) * 2 + (c & 1)]; };
          const float value = x[t * cols + c];
          const uint16_t hi = FloatToBf16(value);
          ASSERT_EQ(at(t), hi) << "m=" << m << " t=" << t << " c=" << c;
          if (parts == amx_dense::Bf16Parts::kHiAndLo) {
            ASSERT_EQ(at(m + t), FloatToBf16(value - Bf16ToFloat(hi))) << "m=" << m << " t=" << t << " c=" << c;
          }
        }
      }
    }
  }
}

TEST(AmxDense, DirectPathMatchesDoubleReferenceForEveryRowCount) {
  if (!amx_dense::Available()) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the kernel)";
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(17);
  // 16 rows: one tile; 45: a tile pair and a 13-row tail; 100 rows split over two threads
  // at a tile boundary with a 4-row tail. 2880 columns as gpt-oss's hidden size.
  for (const auto& [rows, cols] : {std::pair{16, 32}, std::pair{45, 96}, std::pair{100, 2880}}) {
    const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
    const Bf16Matrix w{wbits.data(), rows, cols};
    const std::vector<float> bias = RandomFloats(rows, rng);
    // 1-16 rows of x: one group; 17-128: several groups of 16 in one pass over W; 129 and
    // 200: two passes (kAmxPassGroups in dense.cc), the second of one / five groups.
    std::vector<int> row_counts;
    for (int m = 1; m <= amx_dense::kMaxTokens; ++m) row_counts.push_back(m);
    for (int m : {17, 31, 40, 64, 65, 128, 129, 200}) row_counts.push_back(m);
    for (const int m : row_counts) {
      const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng, 4.0f);
      std::vector<float> y(static_cast<size_t>(m) * rows, NAN);
      ASSERT_TRUE(DenseMatmul(**ctx, w, x.data(), m, bias.data(), y.data(), DensePath::kDirect).ok());
      for (int t = 0; t < m; ++t) {
        for (int r = 0; r < rows; ++r) {
          double expected = bias[r], magnitude = std::fabs(bias[r]);
          for (int c = 0; c < cols; ++c) {
            const double product = double{Bf16ToFloat(wbits[r * cols + c])} * x[t * cols + c];
            expected += product;
            magnitude += std::fabs(product);
          }
          // hi + lo keep 16 mantissa bits of x: ~2^-17 of each product (a lost lo part would be 2^-9).
          ASSERT_NEAR(y[t * rows + r], expected, 1e-5 * magnitude)
              << "rows=" << rows << " cols=" << cols << " m=" << m << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

// A row of x gets the same bits however many rows share the product (3-150: one group or
// several, one pass over W or two, any column of a tile), so a decode row's result does not
// depend on its batch.
TEST(AmxDense, EachRowOfXGetsTheSameBitsAtEveryRowCount) {
  if (!amx_dense::Available()) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the kernel)";
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(23);
  const int rows = 100, cols = 2880, most = 150;  // 150 rows: two passes over W
  const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
  const Bf16Matrix w{wbits.data(), rows, cols};
  const std::vector<float> bias = RandomFloats(rows, rng);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(most) * cols, rng, 4.0f);
  std::vector<float> all(static_cast<size_t>(most) * rows);
  ASSERT_TRUE(DenseMatmul(**ctx, w, x.data(), most, bias.data(), all.data(), DensePath::kAutoFloat32).ok());
  for (const int m : {3, 9, 17, 40, 130}) {
    for (int first = 0; first + m <= most; first += 21) {
      std::vector<float> part(static_cast<size_t>(m) * rows);
      ASSERT_TRUE(DenseMatmul(**ctx, w, x.data() + static_cast<size_t>(first) * cols, m, bias.data(), part.data(),
                              DensePath::kAutoFloat32)
                      .ok());
      for (int t = 0; t < m; ++t) {
        for (int r = 0; r < rows; ++r) {
          ASSERT_EQ(part[static_cast<size_t>(t) * rows + r], all[static_cast<size_t>(first + t) * rows + r])
              << "m=" << m << " first=" << first << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

TEST(AmxDense, RowsStopsAtTheLastWholeTile) {
  if (!amx_dense::Available()) GTEST_SKIP() << "no AMX-BF16 on this CPU (or not granted by the kernel)";
  const int rows = 40, cols = 32, m = 3;
  std::mt19937 rng(5);
  const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
  const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
  amx_dense::PackedActivations packed;
  amx_dense::Pack(x.data(), m, cols, &packed);
  std::vector<float> y(static_cast<size_t>(m) * rows, -7.0f);
  EXPECT_EQ(amx_dense::Rows(Bf16Matrix{wbits.data(), rows, cols}, packed, nullptr, y.data(), 3, rows), 35);
  for (int t = 0; t < m; ++t) {
    for (int r = 0; r < rows; ++r) {
      const bool written = r >= 3 && r < 35;
      EXPECT_EQ(y[t * rows + r] != -7.0f, written) << "t=" << t << " r=" << r;
    }
  }
}

}  // namespace
}  // namespace warden::model
