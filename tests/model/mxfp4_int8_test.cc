// The MXFP4 products with int8-quantised activations (Mxfp4Activations::kInt8, the fast
// mode): the VNNI, AVX2 and portable kernels agree; the result is within the error the
// quantisation allows of the double-precision product with the float x; non-finite input
// stays visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "model/kernels/cpu_features.h"
#include "model/kernels/mxfp4.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomFloats;
using testing::RandomMxfp4;

struct Shape {
  int rows, cols;
};
// Column counts with no full chunk of 4 blocks (96), 9 chunks and 1 block (1184), and the
// gpt-oss hidden size (22 chunks and 2 blocks); odd row counts leave a row out of the pairs.
constexpr Shape kShapes[] = {{37, 96}, {5, 32 * 37}, {9, 2880}};
constexpr int kTokenCounts[] = {1, 2, 3, 8, 11};

// Every kernel this CPU runs: portable, the best (VNNI or AVX2), and AVX2 asked for.
std::vector<KernelIsa> Isas() {
  std::vector<KernelIsa> isas = {KernelIsa::kPortable, KernelIsa::kBest};
  if (CpuHasAvx2Fma()) isas.push_back(KernelIsa::kAvx2);
  return isas;
}

std::vector<float> Product(const Mxfp4Matrix& w, const std::vector<float>& x, int m, const float* bias,
                           KernelIsa isa, Mxfp4Activations activations) {
  ThreadPool pool(2);
  std::vector<float> y(static_cast<size_t>(m) * w.rows);
  Mxfp4Matmul(w, x.data(), m, bias, y.data(), &pool, isa, activations);
  return y;
}

// |x~ - x| <= the block's largest |x| / 254.
double QuantisationError(const std::vector<float>& x, size_t first_of_block) {
  float max = 0.0f;
  for (int j = 0; j < 32; ++j) max = std::max(max, std::fabs(x[first_of_block + j]));
  return max / 254.0;
}

// For every row and token: |y - exact| <= sum |W| * step + float32 rounding; returns the
// largest error seen relative to the bound.
double WorstErrorOverBound(const Mxfp4Matrix& w, const std::vector<float>& x, int m, const std::vector<float>& bias,
                           const std::vector<float>& y) {
  double worst = 0.0;
  for (int t = 0; t < m; ++t) {
    for (int r = 0; r < w.rows; ++r) {
      double exact = bias[r], magnitude = std::fabs(bias[r]), bound = 0.0;
      for (int c = 0; c < w.cols; ++c) {
        const double weight = Mxfp4Element(w, r, c);
        const size_t at = static_cast<size_t>(t) * w.cols + c;
        exact += weight * x[at];
        magnitude += std::fabs(weight * x[at]);
        bound += std::fabs(weight) * QuantisationError(x, at - c % 32);
      }
      const double error = std::fabs(y[static_cast<size_t>(t) * w.rows + r] - exact);
      worst = std::max(worst, error / (bound + 1e-5 * magnitude));
    }
  }
  return worst;
}

TEST(Mxfp4Int8, ErrorStaysWithinTheQuantisationBoundInEveryIsa) {
  std::mt19937 rng(11);
  for (const Shape& shape : kShapes) {
    for (int m : kTokenCounts) {
      RandomMxfp4 w(shape.rows, shape.cols, rng);
      const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * shape.cols, rng, 3.0f);
      const std::vector<float> bias = RandomFloats(shape.rows, rng);
      for (KernelIsa isa : Isas()) {
        const std::vector<float> y = Product(w.matrix, x, m, bias.data(), isa, Mxfp4Activations::kInt8);
        EXPECT_LE(WorstErrorOverBound(w.matrix, x, m, bias, y), 1.0)
            << "cols=" << shape.cols << " m=" << m << " isa=" << static_cast<int>(isa);
      }
    }
  }
}

TEST(Mxfp4Int8, QuantisationChangesTheResultOnlySlightly) {
  // Guards against a kernel that silently took the float32 path (or lost a block).
  std::mt19937 rng(5);
  RandomMxfp4 w(64, 2880, rng);
  const std::vector<float> x = RandomFloats(2880, rng);
  const std::vector<float> exact = Product(w.matrix, x, 1, nullptr, KernelIsa::kPortable, Mxfp4Activations::kFloat32);
  const std::vector<float> int8 = Product(w.matrix, x, 1, nullptr, KernelIsa::kBest, Mxfp4Activations::kInt8);
  double largest_error = 0.0, largest = 0.0;
  for (int r = 0; r < 64; ++r) {
    largest_error = std::max(largest_error, std::fabs(double{int8[r]} - exact[r]));
    largest = std::max(largest, std::fabs(double{exact[r]}));
  }
  EXPECT_GT(largest_error, 0.0);
  EXPECT_LT(largest_error, 0.01 * largest);
}

TEST(Mxfp4Int8, VectorAndPortableKernelsAgree) {
  const std::vector<KernelIsa> isas = Isas();
  if (isas.size() < 3) GTEST_SKIP() << "no AVX2 on this CPU: only the portable kernel runs";
  std::mt19937 rng(23);
  for (const Shape& shape : kShapes) {
    for (int m : kTokenCounts) {
      RandomMxfp4 w(shape.rows, shape.cols, rng);
      const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * shape.cols, rng);
      const std::vector<float> portable = Product(w.matrix, x, m, nullptr, KernelIsa::kPortable, Mxfp4Activations::kInt8);
      for (size_t k = 1; k < isas.size(); ++k) {
        const std::vector<float> vector = Product(w.matrix, x, m, nullptr, isas[k], Mxfp4Activations::kInt8);
        for (size_t i = 0; i < portable.size(); ++i) {
          // The same integer sums; only the float32 order of the block sums differs.
          EXPECT_NEAR(vector[i], portable[i], 1e-5 * (1.0 + std::fabs(portable[i])))
              << "i=" << i << " m=" << m << " cols=" << shape.cols << " isa=" << static_cast<int>(isas[k]);
        }
      }
    }
  }
}

TEST(Mxfp4Int8, ATokenGetsTheSameBitsAloneOrInABatch) {
  // The engine's sequences must not depend on what shares their step.
  std::mt19937 rng(31);
  RandomMxfp4 w(19, 2880, rng);
  constexpr int kTokens = 11;  // a tile of 8 and one of 3
  const std::vector<float> x = RandomFloats(static_cast<size_t>(kTokens) * 2880, rng);
  for (KernelIsa isa : Isas()) {
    const std::vector<float> batch = Product(w.matrix, x, kTokens, nullptr, isa, Mxfp4Activations::kInt8);
    for (int t : {0, 5, 9}) {
      const std::vector<float> one(x.begin() + t * 2880, x.begin() + (t + 1) * 2880);
      const std::vector<float> alone = Product(w.matrix, one, 1, nullptr, isa, Mxfp4Activations::kInt8);
      for (int r = 0; r < 19; ++r) {
        EXPECT_EQ(alone[r], batch[static_cast<size_t>(t) * 19 + r]) << "t=" << t << " r=" << r << " isa=" << static_cast<int>(isa);
      }
    }
  }
}

TEST(Mxfp4Int8, NonFiniteActivationMakesEveryOutputNaN) {
  std::mt19937 rng(2);
  RandomMxfp4 w(6, 160, rng);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> x = RandomFloats(2 * 160, rng);
    x[160 + 70] = bad;  // token 1, block 2
    for (KernelIsa isa : Isas()) {
      const std::vector<float> y = Product(w.matrix, x, 2, nullptr, isa, Mxfp4Activations::kInt8);
      for (int r = 0; r < 6; ++r) {
        EXPECT_TRUE(std::isfinite(y[r])) << "token 0 is unaffected";
        EXPECT_TRUE(std::isnan(y[6 + r])) << "token 1 row " << r;
      }
    }
  }
}

TEST(Mxfp4Int8, SubnormalBlockCountsAsZero) {
  // 127 / max overflows for a subnormal max; such a block must count as zero, not as +-127.
  std::mt19937 rng(4);
  RandomMxfp4 w(6, 96, rng);
  std::vector<float> x(96, 0.0f);
  for (int c = 32; c < 64; ++c) x[c] = (c % 3 == 0 ? 0.0f : 1e-40f) * (c % 2 == 0 ? 1.0f : -1.0f);
  for (KernelIsa isa : Isas()) {
    const std::vector<float> y = Product(w.matrix, x, 1, nullptr, isa, Mxfp4Activations::kInt8);
    for (int r = 0; r < 6; ++r) EXPECT_EQ(y[r], 0.0f) << r;
  }
}

TEST(Mxfp4Int8, ValuesOnTheQuantisationGridAreExact) {
  // x = k * max / 127 with integer k is represented exactly: the product then equals the
  // float32 one up to float rounding.
  std::mt19937 rng(9);
  RandomMxfp4 w(10, 256, rng);
  std::vector<float> x(256);
  for (int c = 0; c < 256; ++c) x[c] = static_cast<float>(static_cast<int>(rng() % 255) - 127) / 127.0f;
  for (int b = 0; b < 8; ++b) x[b * 32] = 1.0f;  // every block's largest |x| is 1
  const std::vector<float> exact = Product(w.matrix, x, 1, nullptr, KernelIsa::kPortable, Mxfp4Activations::kFloat32);
  const std::vector<float> int8 = Product(w.matrix, x, 1, nullptr, KernelIsa::kBest, Mxfp4Activations::kInt8);
  for (int r = 0; r < 10; ++r) EXPECT_NEAR(int8[r], exact[r], 1e-5 * (1.0 + std::fabs(exact[r]))) << r;
}

}  // namespace
}  // namespace warden::model
