// Internal to model/kernels: float32 activations times bf16 weights on oneDNN's bf16
// matmul, in one of two precisions:
//  - kSplit: float32 accuracy. Each activation x is split into hi = bf16(x) and
//    lo = bf16(x - hi); both halves go through one matmul as extra rows and are summed.
//  - kRounded: x is rounded to bf16 once (relative error <= 2^-9 per element), half the
//    work. The gpt-oss reference itself runs with bf16 activations; the fixture README
//    bounds what that may change in the logits (tests/model/engine_reference_test.cc).
// Not thread-safe (uses the context's oneDNN stream).
#ifndef WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_
#define WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "model/kernels/aligned_vector.h"
#include "model/kernels/dnnl_state.h"
#include "model/kernels/mxfp4.h"  // KernelIsa

namespace warden::model {

enum class Bf16Activations { kSplit, kRounded };

struct SplitActivations {
  int64_t m = 0;       // real rows
  int64_t k = 0;       // columns
  int64_t padded = 0;  // m rounded up, so few primitive shapes exist
  int parts = 2;       // 2: hi rows then lo rows (kSplit); 1: rounded rows (kRounded)
  std::vector<uint16_t> rows;  // [parts * padded, k]
};

// out[i] = bf16(x[i]) as floats, for n values (round to nearest even, as kRounded): for
// kernels that take float32 x but must see the values a rounded product multiplies.
// Reuses out's capacity.
void RoundToBf16Floats(const float* x, size_t n, AlignedVector<float>* out);

// `isa` picks the rounding loop (kRounded has an AVX-512 one); the bits are the same.
SplitActivations SplitForBf16(const float* x, int m, int k, Bf16Activations precision,
                              KernelIsa isa = KernelIsa::kBest);

// For r < n: y[t * ldy + r] = W[r] . x[t] + bias[r] (bias may be null), where W is bf16
// [n, k] row-major and the sum runs over x's parts. Rounded rows with no padding and
// ldy == n go straight into y; otherwise through the context's reused output buffer.
absl::Status SplitMatmul(DnnlState& dnnl, const SplitActivations& x, const uint16_t* w, int64_t n,
                         const float* bias, float* y, int64_t ldy);

// SplitMatmul in two steps, so that callers can overlap the second with other work:
// SplitProduct leaves the parts' products in dnnl.matmul_out ([parts * padded, n]);
// AddSplitRows then writes rows [t_begin, t_end) of y from it (parts summed, bias added).
// AddSplitRows only reads `dnnl` and writes those rows of y, so threads may run it on
// disjoint row ranges at once; the next SplitProduct overwrites the buffer.
absl::Status SplitProduct(DnnlState& dnnl, const SplitActivations& x, const uint16_t* w, int64_t n);
void AddSplitRows(const DnnlState& dnnl, const SplitActivations& x, int64_t n, const float* bias, float* y,
                  int64_t ldy, int64_t t_begin, int64_t t_end);

// dst[m, n] = src[m, k] . weights[n, k]^T (+ bias[n] when not null), bf16 x bf16 -> f32,
// without oneDNN: what SplitMatmul runs where oneDNN has no bf16 matmul (oneDNN 2.6 has none
// below AVX-512). Each product of two bf16 values is exact in f32, as in oneDNN's product;
// only the order of the sums differs. src is widened into dnnl.widened and the direct row
// kernels run over it, rows of W split over dnnl.pool. `isa`: kAvx2, or kBest on a CPU with
// AVX2 and FMA, runs avx2_rows::Bf16Rows; otherwise the portable rows.
void PortableBf16Matmul(DnnlState& dnnl, int64_t m, int64_t k, int64_t n, const uint16_t* src,
                        const uint16_t* weights, const float* bias, float* dst, KernelIsa isa = KernelIsa::kBest);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_
