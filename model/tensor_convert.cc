#include "model/tensor_convert.h"

#include <algorithm>
#include <cstring>

#include "model/kernels/tensor_types.h"

namespace warden::model {

void WidenToFloat(const TensorView& view, size_t begin, size_t count, float* out) {
  if (view.dtype == DType::kF32) {
    std::memcpy(out, view.data + 4 * begin, 4 * count);
    return;
  }
  const bool bf16 = view.dtype == DType::kBF16;
  for (size_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, view.data + 2 * (begin + i), 2);
    out[i] = bf16 ? Bf16ToFloat(bits) : Fp16ToFloat(bits);
  }
}

void RoundToBf16(const TensorView& view, size_t begin, size_t count, uint16_t* out) {
  constexpr size_t kChunk = 1024;
  float widened[kChunk];
  for (size_t done = 0; done < count; done += kChunk) {
    const size_t n = std::min(kChunk, count - done);
    WidenToFloat(view, begin + done, n, widened);
    for (size_t i = 0; i < n; ++i) out[done + i] = FloatToBf16(widened[i]);
  }
}

}  // namespace warden::model
