// Experts stored unquantised — bf16 (or float16/float32) fine-tunes and dequantised uploads of
// gpt-oss in the Hugging Face layout — quantised to MXFP4 at load, so the engine runs them
// on its one expert path. The Hugging Face tensors are the transpose of the MXFP4 ones:
// `gate_up_proj` is [E, H, 2I] (the model computes x @ W, gate and linear interleaved in the
// last dimension) where `gate_up_proj_blocks` is [E, 2I, H/32, 16]; `down_proj` is [E, I, H].
//
// Quantisation is lossy for weights that were trained in bf16 (MXFP4 keeps 4 bits and one
// power-of-two scale per 32 weights, as the released checkpoints do); a dequantised MXFP4
// checkpoint comes back bit for bit (model/kernels/mxfp4_quantize.h).
//
// Thread safety: pure function. Ownership: the result owns its memory; the Mxfp4Matrix views
// made from it are valid while it lives.
#ifndef WARDEN_MODEL_UNQUANTISED_EXPERTS_H_
#define WARDEN_MODEL_UNQUANTISED_EXPERTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "model/kernels/huge_pages.h"
#include "model/kernels/tensor_types.h"
#include "model/safetensors.h"

namespace warden::model {

struct QuantisedExperts {
  HugePageBuffer blocks;  // [experts, rows, cols/32, 16]
  HugePageBuffer scales;  // [experts, rows, cols/32]
  std::vector<Mxfp4Matrix> matrices;  // one view per expert into blocks and scales
};

// Quantises `view`, a BF16, F16 or F32 tensor of shape [experts, cols, rows] (the transposed
// layout above), into `experts` MXFP4 matrices of [rows, cols]. `cols` must be a multiple of
// 32. INVALID_ARGUMENT naming the tensor for a wrong shape or dtype and for a non-finite
// weight (with its position); RESOURCE_EXHAUSTED when the memory cannot be allocated.
absl::StatusOr<QuantisedExperts> QuantiseTransposedExperts(const TensorView& view, int experts, int rows,
                                                           int cols);

}  // namespace warden::model

#endif  // WARDEN_MODEL_UNQUANTISED_EXPERTS_H_
