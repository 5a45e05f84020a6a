// Internal to model/kernels: float32 activations times bf16 weights on oneDNN's bf16
// matmul at float32 accuracy. Each activation x is split into hi = bf16(x) and
// lo = bf16(x - hi); both halves go through one matmul as extra rows and are summed.
// Not thread-safe (uses the context's oneDNN stream).
#ifndef WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_
#define WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "model/kernels/dnnl_state.h"

namespace warden::model {

struct SplitActivations {
  int64_t m = 0;       // real rows
  int64_t k = 0;       // columns
  int64_t padded = 0;  // m rounded up, so few primitive shapes exist
  std::vector<uint16_t> rows;  // [2 * padded, k]: hi rows, then lo rows
};

SplitActivations SplitForBf16(const float* x, int m, int k);

// For r < n: y[t * ldy + r] = W[r] . x[t] + bias[r] (bias may be null), where W is bf16
// [n, k] row-major. `scratch` is reused between calls.
absl::Status SplitMatmul(DnnlState& dnnl, const SplitActivations& x, const uint16_t* w, int64_t n,
                         const float* bias, float* y, int64_t ldy, std::vector<float>* scratch);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_SPLIT_MATMUL_H_
