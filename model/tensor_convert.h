// Reading floating-point tensor elements whatever their stored precision: the loader's
// vectors, the bf16 copies of F16/F32 matrices and the quantisation of unquantised experts
// all widen through here.
// Thread safety: pure functions. Callers pass views whose dtype is BF16, F16 or F32 and
// ranges inside the tensor.
#ifndef WARDEN_MODEL_TENSOR_CONVERT_H_
#define WARDEN_MODEL_TENSOR_CONVERT_H_

#include <cstddef>
#include <cstdint>

#include "model/safetensors.h"

namespace warden::model {

// Elements [begin, begin + count) of `view` as floats (exact for all three dtypes).
void WidenToFloat(const TensorView& view, size_t begin, size_t count, float* out);

// The same elements rounded to bf16 (to nearest, ties to even; exact for bf16 values).
void RoundToBf16(const TensorView& view, size_t begin, size_t count, uint16_t* out);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TENSOR_CONVERT_H_
