// Every kernel entry point returns with the upper halves of the vector registers clean.
//
// Why: code built for baseline x86-64 (SSE) that runs while the upper halves of ymm/zmm
// are in use pays a merge on every instruction; on this project's development CPU a scalar
// SwiGlu loop ran ~38x slower (10 us against 386 us for 2,880 values). Compilers end
// AVX functions with vzeroupper, but not always: GCC 12 left it out of the int8 MXFP4
// kernel once that kernel kept a 512-bit table live across calls, and the `fast` decode
// lost a third of its speed, with no test failing. This test asks the CPU itself: XGETBV
// with ECX = 1 reports which state components are in use (XINUSE); bits 2 (upper halves
// of ymm0-15) and 6 (upper halves of zmm0-15) must be clear after each kernel returns.
// No timing is involved. Skipped where the CPU cannot report XINUSE.
#include <cpuid.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "model/kernels/amx_dense.h"
#include "model/kernels/attention.h"
#include "model/kernels/attention_amx.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/expert_matmul.h"
#include "model/kernels/int8_dense.h"
#include "model/kernels/int8_dense_tiles.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/mxfp4_int8.h"
#include "model/kernels/ops.h"
#include "model/kernels/quantized_activations.h"
#include "tests/model/random_inputs.h"

namespace warden::model {
namespace {

using testing::RandomBf16;
using testing::RandomFloats;
using testing::RandomMxfp4;

constexpr uint64_t kUpperHalvesInUse = (uint64_t{1} << 2) | (uint64_t{1} << 6);

bool CpuReportsStateInUse() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_OSXSAVE) == 0) return false;
  if (__get_cpuid_max(0, nullptr) < 0xD) return false;
  __cpuid_count(0xD, 1, a, b, c, d);
  return (a & (1u << 2)) != 0;  // XGETBV with ECX = 1
}

uint64_t StateInUse() {
  uint32_t low = 0, high = 0;
  asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(1));
  return low | static_cast<uint64_t>(high) << 32;
}

class UpperStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuReportsStateInUse()) GTEST_SKIP() << "this CPU does not report XINUSE";
    auto ctx = KernelContext::Create({1});  // one thread: every kernel runs on this one
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ctx_ = std::move(*ctx);
  }

  // Runs `kernel` and checks the state it leaves behind.
  void ExpectCleanAfter(const std::string& what, const std::function<void()>& kernel) {
    kernel();
    const uint64_t in_use = StateInUse();
    EXPECT_EQ(in_use & kUpperHalvesInUse, 0u) << what << " returned with XINUSE 0x" << std::hex << in_use;
  }

  std::unique_ptr<KernelContext> ctx_;
  std::mt19937 rng_{7};
};

TEST_F(UpperStateTest, MatrixProducts) {
  constexpr int kRows = 64, kCols = 256, kMaxTokens = 40;
  const std::vector<float> x = RandomFloats(static_cast<size_t>(kMaxTokens) * kCols, rng_);
  const std::vector<float> bias = RandomFloats(kRows, rng_);
  std::vector<float> y(static_cast<size_t>(kMaxTokens) * kRows);
  const std::vector<uint16_t> bf16 = RandomBf16(static_cast<size_t>(kRows) * kCols, rng_);
  const Bf16Matrix dense{bf16.data(), kRows, kCols};
  const Int8Matrix int8 = QuantizeRows(dense, ctx_->pool());
  const RandomMxfp4 mxfp4(kRows, kCols, rng_);
  for (int m : {1, 2, 3, 4, 8, 16, kMaxTokens}) {
    const std::string at = " m=" + std::to_string(m);
    for (DensePath path : {DensePath::kAuto, DensePath::kDirect}) {
      ExpectCleanAfter("DenseMatmul" + at, [&] {
        ASSERT_TRUE(DenseMatmul(*ctx_, dense, x.data(), m, bias.data(), y.data(), path).ok());
      });
    }
    ExpectCleanAfter("Int8DenseMatmul" + at,
                     [&] { Int8DenseMatmul(*ctx_, int8, x.data(), m, bias.data(), y.data()); });
    for (Mxfp4Activations activations : {Mxfp4Activations::kFloat32, Mxfp4Activations::kInt8}) {
      const char* kind = activations == Mxfp4Activations::kInt8 ? " int8 x" : " float32 x";
      ExpectCleanAfter("Mxfp4Matmul" + (kind + at), [&] {
        Mxfp4Matmul(mxfp4.matrix, x.data(), m, bias.data(), y.data(), &ctx_->pool(), KernelIsa::kBest, activations);
      });
    }
    for (ExpertPath path : {ExpertPath::kAuto, ExpertPath::kAutoRounded, ExpertPath::kPacked,
                            ExpertPath::kDequantizeOneDnn, ExpertPath::kFusedAmx, ExpertPath::kFusedAmxRounded}) {
      ExpectCleanAfter("ExpertMatmul path " + std::to_string(static_cast<int>(path)) + at, [&] {
        // The fused AMX paths return FailedPrecondition without AMX; the state still counts.
        (void)ExpertMatmul(*ctx_, mxfp4.matrix, x.data(), m, bias.data(), y.data(), path);
      });
    }
  }
  std::vector<uint16_t> expanded(static_cast<size_t>(kRows) * kCols);
  ExpectCleanAfter("DequantizeMxfp4ToBf16",
                   [&] { DequantizeMxfp4ToBf16(mxfp4.matrix, expanded.data(), &ctx_->pool()); });
}

TEST_F(UpperStateTest, ActivationPacking) {
  constexpr int kCols = 256;
  const std::vector<float> x = RandomFloats(8 * kCols, rng_);
  for (int m : {1, 8}) {
    QuantizedActivations quantized;
    ExpectCleanAfter("QuantizeActivations", [&] { QuantizeActivations(x.data(), m, kCols, mxfp4_int8::kWeightBias, &quantized); });
    int8_dense_tiles::Int16Activations int16;
    ExpectCleanAfter("QuantizeInt16", [&] { int8_dense_tiles::QuantizeInt16(x.data(), m, kCols, &int16); });
    if (amx_dense::Available()) {
      amx_dense::PackedActivations packed;
      ExpectCleanAfter("amx_dense::Pack", [&] { amx_dense::Pack(x.data(), m, kCols, &packed); });
    }
  }
}

TEST_F(UpperStateTest, AttentionAndElementwiseOps) {
  constexpr int kHeads = 4, kDim = 64, kPositions = 40;
  const std::vector<float> queries = RandomFloats(kHeads * kDim, rng_);
  const std::vector<float> sinks = RandomFloats(kHeads, rng_);
  const std::vector<float> kv = RandomFloats(2 * kPositions * kDim, rng_);
  std::vector<const float*> keys, values;
  for (int p = 0; p < kPositions; ++p) {
    keys.push_back(&kv[p * kDim]);
    values.push_back(&kv[(kPositions + p) * kDim]);
  }
  std::vector<float> scores(kHeads * kPositions), out(kHeads * kDim);
  AttentionGroupInput group;
  group.queries = queries.data();
  group.sinks = sinks.data();
  group.heads = kHeads;
  group.keys = keys.data();
  group.values = values.data();
  group.n = kPositions;
  group.head_dim = kDim;
  group.scale = 0.125f;
  ExpectCleanAfter("AttendHeads", [&] { AttendHeads(group, scores.data(), out.data()); });
  AttentionHeadInput head{queries.data(), keys.data(), values.data(), kPositions, kDim, 0.125f, 0.5f};
  ExpectCleanAfter("AttendHead", [&] { AttendHead(head, scores.data(), out.data()); });
  if (AmxAttentionAvailable(kDim)) {
    AmxAttentionKv amx_kv;
    ExpectCleanAfter("AmxAttentionKv::Load",
                     [&] { amx_kv.Load(keys.data(), values.data(), kPositions, kDim); });
    const int visible[1] = {kPositions};
    AmxAttentionRows rows;
    rows.queries = queries.data();
    rows.query_stride = kHeads * kDim;
    rows.sinks = sinks.data();
    rows.heads = kHeads;
    rows.rows = 1;
    rows.visible = visible;
    rows.scale = 0.125f;
    rows.out = out.data();
    rows.out_stride = kHeads * kDim;
    AmxAttentionScratch scratch;
    ExpectCleanAfter("AttendRowsAmx", [&] { AttendRowsAmx(amx_kv, rows, &scratch); });
  }

  constexpr int kWidth = 2880;
  std::vector<float> h = RandomFloats(2 * kWidth, rng_), result(2 * kWidth);
  const std::vector<float> weight = RandomFloats(kWidth, rng_);
  ExpectCleanAfter("RmsNorm", [&] { RmsNorm(h.data(), weight.data(), kWidth, 1e-5f, result.data()); });
  ExpectCleanAfter("SwiGlu", [&] { SwiGlu(h.data(), kWidth, 7.0f, 1.702f, result.data()); });
  ExpectCleanAfter("Softmax", [&] { Softmax(h.data(), kWidth); });
  std::vector<float> cos = RandomFloats(kDim / 2, rng_), sin = RandomFloats(kDim / 2, rng_);
  ExpectCleanAfter("ApplyRope", [&] { ApplyRope(h.data(), cos.data(), sin.data(), kDim); });
}

}  // namespace
}  // namespace warden::model
