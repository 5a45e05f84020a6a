// Dense products with bfloat16 weights and float32 activations:
// y[t, r] = sum_c W[r, c] * x[t, c] + bias[r], accumulated in float32.
//
// Two paths compute the same result to float32 accuracy:
//  - direct: a row-by-row kernel (portable or AVX-512) that widens bf16 weights to f32;
//    used for a few rows of x (decode), where reading W once dominates. With kBest, 3 or more
//    rows run on AMX tiles where the CPU has them (amx_dense.h, 16 rows of x per group),
//    with x split as below.
//  - oneDNN: a bf16 x bf16 -> f32 matmul. To keep f32 accuracy each activation is split
//    into hi = bf16(x) and lo = bf16(x - hi); W·x = W·hi + W·lo, both products exact in
//    f32, so the error is that of x's 16 leading mantissa bits (~1e-5 relative).
//  - oneDNN rounded: the same matmul with x rounded to bf16 once (~4e-3 relative per
//    element, like the reference's own bf16 mode), half the work; kAuto uses it for
//    prefill-sized products (>= 32 rows), never for decode. kAutoFloat32 chooses as kAuto
//    but never rounds (the forward pass's rows whose precision their caller fixed at
//    float32, however many share the product); kAutoRounded always rounds, on AMX tiles
//    for 3-192 rows where the CPU has them (32 rows of x per group), else on oneDNN.
// Thread safety: as KernelContext (one caller at a time per context).
#ifndef WARDEN_MODEL_KERNELS_DENSE_H_
#define WARDEN_MODEL_KERNELS_DENSE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {

enum class DensePath { kAuto, kAutoFloat32, kAutoRounded, kDirect, kOneDnn, kOneDnnRounded };

// Products over at least this many rows of x belong to a prefill: there, activations are
// rounded to bf16 once (DenseMatmul's kAuto for m >= this). The engine makes the same
// choice per prompt rather than per product (a prompt of this many tokens has all its rows
// rounded, in however many chunks; decode rows never are: ForwardChunk::rounded), so that a
// sequence's results do not depend on what shares its steps.
inline constexpr int kRoundedActivationMinRows = 32;

// Whether oneDNN can run a bf16 matmul on this CPU (oneDNN 2.6: only with AVX-512). Where it
// cannot, the automatic paths of DenseMatmul and ExpertMatmul run our own kernels on x
// itself instead of on its bf16 parts. Asked once; thread-safe.
bool OneDnnHasBf16Matmul();

// x is [m, w.cols], y is [m, w.rows], bias may be null. Errors only if oneDNN fails.
absl::Status DenseMatmul(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m,
                         const float* bias, float* y, DensePath path = DensePath::kAuto,
                         KernelIsa isa = KernelIsa::kBest);

// Whether DenseMatmul (`path` kAuto, kAutoFloat32 or kAutoRounded, kBest) over m rows of x with `cols`
// columns runs on oneDNN, whose own OpenMP team the caller's pool should not spin against
// (thread_pool.h).
bool DenseMatmulRunsOnOneDnn(int m, int cols, DensePath path = DensePath::kAuto);

// The bf16 x bf16 -> f32 product of the oneDNN paths (y[m, n] = src[m, k] . W[n, k]^T + bias)
// as it runs where oneDNN has no bf16 matmul (CPUs without AVX-512), on any CPU: for tests.
// `isa` as PortableBf16Matmul's (split_matmul.h): kPortable scalar, kAvx2 AVX2.
void PortableBf16Product(KernelContext& ctx, int64_t m, int64_t k, int64_t n, const uint16_t* src,
                         const uint16_t* weights, const float* bias, float* dst, KernelIsa isa);

// Throughput of oneDNN's bf16 matmul (of the portable product where oneDNN has none) on an n x n x n product, in GFLOP/s (best of reps).
absl::StatusOr<double> MeasureBf16MatmulGflops(KernelContext& ctx, int n, int reps);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_DENSE_H_
