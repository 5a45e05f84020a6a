// Prefill kernels: the vector attention kernels (AVX-512, AVX2) against the portable one and a double
// reference; the bf16-rounded-activation (prefill) products against a double reference on
// activations rounded the same way, on odd shapes (rows and columns not multiples of the
// tiles, m = 1..70).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "model/kernels/attention.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/expert_matmul.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomBf16;
using testing::RandomFloats;
using testing::RandomMxfp4;

float RoundToBf16(float x) { return Bf16ToFloat(FloatToBf16(x)); }

// The attention kernels this CPU can run: portable always, the vector ones it has.
std::vector<KernelIsa> AttentionIsas() {
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (CpuHasAvx512()) isas.push_back(KernelIsa::kAvx512);
  if (CpuHasAvx2Fma()) isas.push_back(KernelIsa::kAvx2);
  return isas;
}

const char* IsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kPortable: return "portable";
    case KernelIsa::kAvx512: return "avx512";
    case KernelIsa::kAvx2: return "avx2";
    case KernelIsa::kBest: return "best";
  }
  return "?";
}

// Double-precision attention of one head with a sink.
std::vector<double> ReferenceAttention(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, int n, int d, double scale, double sink) {
  std::vector<double> logits(n);
  double max = sink;
  for (int p = 0; p < n; ++p) {
    double dot = 0;
    for (int i = 0; i < d; ++i) dot += double{q[i]} * k[p * d + i];
    logits[p] = dot * scale;
    max = std::max(max, logits[p]);
  }
  double denominator = std::exp(sink - max);
  for (double& l : logits) {
    l = std::exp(l - max);
    denominator += l;
  }
  std::vector<double> out(d, 0.0);
  for (int p = 0; p < n; ++p) {
    for (int i = 0; i < d; ++i) out[i] += logits[p] / denominator * v[p * d + i];
  }
  return out;
}

TEST(AttendHead, EveryKernelMatchesDoubleReferenceOnOddShapes) {
  std::mt19937 rng(5);
  // 24: not a multiple of 16 (AVX-512 falls back to portable; AVX2 takes it); 12: no vector
  // kernel takes it; 8: one AVX2 vector.
  for (int d : {8, 12, 16, 24, 64, 128}) {
    for (int n : {1, 2, 15, 17, 33, 70}) {
      // Scale 3 gives logits of up to ~±70 after the 1/sqrt(d) scale: exp over a wide range.
      const std::vector<float> q = RandomFloats(d, rng, 3.0f), k = RandomFloats(static_cast<size_t>(n) * d, rng, 3.0f);
      const std::vector<float> v = RandomFloats(static_cast<size_t>(n) * d, rng);
      const float sink = (n % 2 == 0) ? 2.5f : -1.0f;
      std::vector<const float*> keys(n), values(n);
      for (int p = 0; p < n; ++p) {
        keys[p] = &k[p * d];
        values[p] = &v[p * d];
      }
      const AttentionHeadInput in{q.data(), keys.data(), values.data(), n, d, 1.0f / std::sqrt(float(d)), sink};
      const std::vector<double> expected = ReferenceAttention(q, k, v, n, d, in.scale, sink);
      for (KernelIsa isa : AttentionIsas()) {
        std::vector<float> scores(n), out(d, -7.0f);
        AttendHead(in, scores.data(), out.data(), isa);
        for (int i = 0; i < d; ++i) {
          EXPECT_NEAR(out[i], expected[i], 2e-6 + 2e-5 * std::fabs(expected[i]))
              << "d=" << d << " n=" << n << " i=" << i << " isa=" << IsaName(isa);
        }
      }
    }
  }
}

// The grouped kernel gives each head exactly AttendHead's bits, for spans that end inside
// and on the edge of its 64-position blocks, odd spans (a lone last position), 1-8 heads
// and head widths on and off the vector path; and it matches the double reference.
TEST(AttendHeads, EachHeadGetsAttendHeadsBitsOnOddShapes) {
  std::mt19937 rng(11);
  for (int d : {8, 16, 24, 64}) {
    for (int heads : {1, 3, 8}) {
      for (int n : {1, 15, 63, 64, 65, 128, 131, 200}) {
        const std::vector<float> q = RandomFloats(static_cast<size_t>(heads) * d, rng, 3.0f);
        const std::vector<float> k = RandomFloats(static_cast<size_t>(n) * d, rng, 3.0f);
        const std::vector<float> v = RandomFloats(static_cast<size_t>(n) * d, rng);
        const std::vector<float> sinks = RandomFloats(heads, rng, 2.0f);
        std::vector<const float*> keys(n), values(n);
        for (int p = 0; p < n; ++p) {
          keys[p] = &k[static_cast<size_t>(p) * d];
          values[p] = &v[static_cast<size_t>(p) * d];
        }
        AttentionGroupInput group{q.data(), sinks.data(), heads, keys.data(), values.data(), n, d,
                                  1.0f / std::sqrt(float(d))};
        for (KernelIsa isa : AttentionIsas()) {
          std::vector<float> scores(static_cast<size_t>(heads) * n), out(static_cast<size_t>(heads) * d, -7.0f);
          AttendHeads(group, scores.data(), out.data(), isa);
          for (int h = 0; h < heads; ++h) {
            const std::vector<float> head_q(q.begin() + h * d, q.begin() + (h + 1) * d);
            const AttentionHeadInput one{head_q.data(), keys.data(), values.data(), n, d, group.scale, sinks[h]};
            std::vector<float> one_scores(n), one_out(d);
            AttendHead(one, one_scores.data(), one_out.data(), isa);
            const std::vector<double> expected = ReferenceAttention(head_q, k, v, n, d, group.scale, sinks[h]);
            for (int i = 0; i < d; ++i) {
              ASSERT_EQ(out[h * d + i], one_out[i]) << "d=" << d << " heads=" << heads << " n=" << n << " h=" << h
                                                    << " i=" << i << " isa=" << IsaName(isa);
              ASSERT_NEAR(out[h * d + i], expected[i], 2e-6 + 2e-5 * std::fabs(expected[i]));
            }
          }
        }
      }
    }
  }
}

TEST(AttendHead, SinkTakesMassWithoutValue) {
  // One key with logit 0 and a sink of 0: the key gets half the probability.
  const int d = 16;
  std::vector<float> q(d, 0.0f), k(d, 1.0f), v(d, 4.0f);
  const float* keys[] = {k.data()};
  const float* values[] = {v.data()};
  for (KernelIsa isa : AttentionIsas()) {
    std::vector<float> scores(1), out(d);
    AttendHead({q.data(), keys, values, 1, d, 1.0f, 0.0f}, scores.data(), out.data(), isa);
    for (float o : out) EXPECT_NEAR(o, 2.0f, 1e-6);
  }
}

TEST(AttendHead, NanScoreMakesTheOutputNanInEveryKernel) {
  // A NaN must stay visible (the engine reports non-finite logits), not turn into a
  // position of weight 0: the AVX-512 exp once clamped its argument with a max that
  // returned the bound for NaN.
  const int n = 40, d = 64;
  std::mt19937 rng(8);
  const std::vector<float> q = RandomFloats(d, rng);
  std::vector<float> k = RandomFloats(static_cast<size_t>(n) * d, rng);
  const std::vector<float> v = RandomFloats(static_cast<size_t>(n) * d, rng);
  k[17 * d + 5] = std::numeric_limits<float>::quiet_NaN();
  std::vector<const float*> keys(n), values(n);
  for (int p = 0; p < n; ++p) {
    keys[p] = k.data() + p * d;
    values[p] = v.data() + p * d;
  }
  for (KernelIsa isa : AttentionIsas()) {
    std::vector<float> scores(n), out(d);
    AttendHead({q.data(), keys.data(), values.data(), n, d, 0.125f, 0.5f}, scores.data(), out.data(), isa);
    for (int i = 0; i < d; ++i) EXPECT_TRUE(std::isnan(out[i])) << IsaName(isa) << " i=" << i << " " << out[i];
  }
}

// Rounded-activation products are exact products of bf16(x) with W, summed in float32:
// compare with a double sum over the rounded x, to float32 summation accuracy.
TEST(ExpertMatmul, RoundedPathMatchesDoubleReferenceOnRoundedActivations) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(17);
  const int rows = 300, cols = 160;  // rows: two full 128-row tiles and a partial one
  RandomMxfp4 w(rows, cols, rng);
  const std::vector<float> bias = RandomFloats(rows, rng);
  for (int m : {1, 7, 31, 32, 45, 70}) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
    std::vector<float> y(static_cast<size_t>(m) * rows);
    ASSERT_TRUE(ExpertMatmul(**ctx, w.matrix, x.data(), m, bias.data(), y.data(), ExpertPath::kDequantizeOneDnnRounded)
                    .ok());
    for (int t = 0; t < m; ++t) {
      for (int r = 0; r < rows; ++r) {
        double expected = bias[r], magnitude = std::fabs(bias[r]);
        for (int c = 0; c < cols; ++c) {
          const double term = double{Mxfp4Element(w.matrix, r, c)} * RoundToBf16(x[t * cols + c]);
          expected += term;
          magnitude += std::fabs(term);
        }
        ASSERT_NEAR(y[t * rows + r], expected, 1e-5 * (1 + magnitude)) << "m=" << m << " t=" << t << " r=" << r;
      }
    }
  }
}

// kAutoRounded (a rounded prompt's rows): x rounded to bf16 on every route, the packed
// kernel's few rows (m = 2), the fused path's (7, where AMX runs) and oneDNN's (20) alike.
TEST(ExpertMatmul, AutoRoundedRoundsOnEveryRoute) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(29);
  const int rows = 70, cols = 128;
  RandomMxfp4 w(rows, cols, rng);
  for (int m : {2, 7, 20}) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
    std::vector<float> y(static_cast<size_t>(m) * rows);
    ASSERT_TRUE(ExpertMatmul(**ctx, w.matrix, x.data(), m, nullptr, y.data(), ExpertPath::kAutoRounded).ok());
    for (int t = 0; t < m; ++t) {
      for (int r = 0; r < rows; ++r) {
        double expected = 0, magnitude = 0;
        for (int c = 0; c < cols; ++c) {
          const float xv = RoundToBf16(x[t * cols + c]);
          expected += double{Mxfp4Element(w.matrix, r, c)} * xv;
          magnitude += std::fabs(double{Mxfp4Element(w.matrix, r, c)} * xv);
        }
        ASSERT_NEAR(y[t * rows + r], expected, 1e-5 * (1 + magnitude)) << "m=" << m << " t=" << t << " r=" << r;
      }
    }
  }
}

TEST(DenseMatmul, RoundedPathMatchesDoubleReferenceOnRoundedActivations) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(19);
  const int rows = 45, cols = 70;
  const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
  const Bf16Matrix w{wbits.data(), rows, cols};
  const std::vector<float> bias = RandomFloats(rows, rng);
  // m = 32, 48: multiples of 16, where oneDNN writes y and adds the bias itself (48: no bias).
  for (int m : {1, 9, 32, 33, 48, 70}) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
    const bool with_bias = m != 48;
    // The isa picks the activation rounding loop (AVX-512 or portable); both must round alike.
    for (KernelIsa isa : {KernelIsa::kPortable, KernelIsa::kAvx512}) {
      if (isa == KernelIsa::kAvx512 && !CpuHasAvx512()) continue;
      std::vector<float> y(static_cast<size_t>(m) * rows, NAN);
      ASSERT_TRUE(DenseMatmul(**ctx, w, x.data(), m, with_bias ? bias.data() : nullptr, y.data(),
                              DensePath::kOneDnnRounded, isa)
                      .ok());
      for (int t = 0; t < m; ++t) {
        for (int r = 0; r < rows; ++r) {
          double expected = with_bias ? bias[r] : 0.0;
          for (int c = 0; c < cols; ++c) {
            expected += double{Bf16ToFloat(wbits[r * cols + c])} * RoundToBf16(x[t * cols + c]);
          }
          ASSERT_NEAR(y[t * rows + r], expected, 1e-4) << "m=" << m << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

// kAutoRounded (a rounded prompt's dense products): AMX tiles for 3-192 rows of x where the
// CPU has them (32 rows per group; the 13 rows of W past the last whole tile on paired_rows
// with the same rounded x), oneDNN otherwise: every route multiplies bf16(x).
TEST(DenseMatmul, AutoRoundedPathMatchesDoubleReferenceOnRoundedActivations) {
  auto ctx = KernelContext::Create({2});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  std::mt19937 rng(31);
  const int rows = 45, cols = 96;
  const std::vector<uint16_t> wbits = RandomBf16(static_cast<size_t>(rows) * cols, rng);
  const Bf16Matrix w{wbits.data(), rows, cols};
  const std::vector<float> bias = RandomFloats(rows, rng);
  // 1: oneDNN; 3-192 on AMX where the CPU has it (192: six groups of 32 in one pass over W);
  // 193 and 300: oneDNN again.
  for (int m : {1, 3, 17, 40, 64, 65, 192, 193, 300}) {
    const std::vector<float> x = RandomFloats(static_cast<size_t>(m) * cols, rng);
    std::vector<float> y(static_cast<size_t>(m) * rows, NAN);
    ASSERT_TRUE(DenseMatmul(**ctx, w, x.data(), m, bias.data(), y.data(), DensePath::kAutoRounded).ok());
    for (int t = 0; t < m; ++t) {
      for (int r = 0; r < rows; ++r) {
        double expected = bias[r];
        for (int c = 0; c < cols; ++c) {
          expected += double{Bf16ToFloat(wbits[r * cols + c])} * RoundToBf16(x[t * cols + c]);
        }
        ASSERT_NEAR(y[t * rows + r], expected, 1e-4) << "m=" << m << " t=" << t << " r=" << r;
      }
    }
  }
}

}  // namespace
}  // namespace warden::model
