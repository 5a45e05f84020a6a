// Expert (MXFP4) products for the forward pass, choosing per call between
//  - the packed kernel (Mxfp4Matmul): few rows of x, e.g. decode, reads W once, 4 bits/weight;
//  - the fused AMX path: from 4 rows of x on, on CPUs with AMX: W expanded chunk by chunk
//    into each core's L1 or L2 and multiplied there on AMX tiles, with x as accurate as the
//    oneDNN path below would take it (hi + lo, or rounded to bf16);
//  - dequantise-then-oneDNN: many rows of x, e.g. prefill: W is expanded to bf16 into a
//    scratch buffer the context owns (exact: every MXFP4 value is a bf16 value) and
//    multiplied by oneDNN's bf16 matmul with x split into hi + lo bf16 parts, which keeps
//    float32 accuracy (see dense.h), or with x rounded to bf16 once: half the work,
//    bf16-activation accuracy (prefill; see kRoundedActivationMinRows in dense.h).
// Thread safety: as KernelContext.
#ifndef WARDEN_MODEL_KERNELS_EXPERT_MATMUL_H_
#define WARDEN_MODEL_KERNELS_EXPERT_MATMUL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {

// kAuto: the fused AMX path (below) from 4 rows of x on where it can run (and `packed`
// is kFloat32: int8 decode steps stay packed); otherwise
// packed below 12 rows, else dequantise-then-oneDNN, rounding x from
// kRoundedActivationMinRows rows on. kAutoRounded: the same routes, but x rounded to bf16 on
// every one (the packed kernel takes a rounded copy): a rounded prompt's rows, whatever
// number of them an expert gets.
// kAutoFloat32: as kAuto, but never rounding x (rows whose precision the caller fixed at
// float32, however many share the expert).
// kFusedAmx: W expanded to bf16 a chunk at a time per thread (into L1 or L2) and multiplied
// there on AMX tiles, x split into hi + lo (float32 accuracy); FailedPrecondition where it cannot run
// (no AMX, W's rows not a multiple of 16 or its columns of 32).
// kFusedAmxRounded: the same with x rounded to bf16 once (bf16-activation accuracy; where
// kAuto/kAutoRounded take the fused path, they round as the oneDNN path would).
enum class ExpertPath {
  kAuto,
  kAutoRounded,
  kAutoFloat32,
  kPacked,
  kDequantizeOneDnn,
  kDequantizeOneDnnRounded,
  kFusedAmx,
  kFusedAmxRounded
};

// y[t, r] = sum_c W[r, c] * x[t, c] + bias[r]; x is [m, w.cols], y is [m, w.rows].
// `packed`: how the packed kernel takes x when it runs (mxfp4.h).
absl::Status ExpertMatmul(KernelContext& ctx, const Mxfp4Matrix& w, const float* x, int m,
                          const float* bias, float* y, ExpertPath path = ExpertPath::kAuto,
                          Mxfp4Activations packed = Mxfp4Activations::kFloat32);

// Whether ExpertMatmul with these arguments runs on oneDNN (dequantise-then-oneDNN), whose
// own OpenMP team the caller's pool should not spin against (thread_pool.h).
bool ExpertMatmulRunsOnOneDnn(const Mxfp4Matrix& w, int m, ExpertPath path = ExpertPath::kAuto,
                              Mxfp4Activations packed = Mxfp4Activations::kFloat32);

// Writes W as bf16 bit patterns, row-major [w.rows, w.cols]; every implementation writes
// the same bits. kAvx512 runs the AVX-512 F/BW expansion; kBest the one the fused path
// uses for chunks in L1 (VBMI where the CPU has it; for a whole matrix, as here, the
// AVX-512 one is faster, and the engine's oneDNN path uses that).
void DequantizeMxfp4ToBf16(const Mxfp4Matrix& w, uint16_t* out, ThreadPool* pool,
                           KernelIsa isa = KernelIsa::kBest);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_EXPERT_MATMUL_H_
