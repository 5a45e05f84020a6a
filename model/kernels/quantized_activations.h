// Activations quantised to int8 per 32 values, laid out for VNNI's vpdpbusd (internal to
// model/kernels; used by the fast mode's MXFP4 expert kernel, mxfp4_int8.h). The dense
// int8 kernel was measured with them too and takes int16 activations instead
// (int8_dense_tiles.h).
//
// Per token and 32-value block b, the step s_b = max|x_b| / 127 and q = round(x / s_b):
// the error is at most s_b / 2, i.e. 1/254 of the block's largest |x| (as llama.cpp's
// q8_0). A block whose values are not all finite gets a NaN scale, so its products are NaN
// as in float32; a block of zeros (or subnormals) is zero.
//
// The weights enter vpdpbusd as unsigned bytes, w + weight_bias; each record carries the
// integer correction that removes the bias from the sums.
//
// Thread safety: QuantizeActivations writes only `out`.
#ifndef WARDEN_MODEL_KERNELS_QUANTIZED_ACTIVATIONS_H_
#define WARDEN_MODEL_KERNELS_QUANTIZED_ACTIVATIONS_H_

#include <cstddef>
#include <cstdint>

#include "model/kernels/aligned_vector.h"

namespace warden::model {

// One record per token and chunk of 4 blocks (128 values), kRecordBytes long:
//   even values [4 blocks x 16] int8 (elements 2j of each block), odd values [4 x 16] int8;
//   16 int32 corrections, -weight_bias * (sum of the 8 values a lane multiplies);
//   16 float32 lane scales, s_b / 2 (for weights entered doubled), for lane / 4 = b.
// A lane of vpdpbusd multiplies 4 consecutive bytes: lane l of the even (odd) part covers
// even (odd) values 4(l mod 4) .. 4(l mod 4) + 3 of block l / 4. A chunk past the last
// block is zero-filled.
namespace activation_record {
inline constexpr int kBlockValues = 32;
inline constexpr int kChunkBlocks = 4;
inline constexpr int kChunkValues = kChunkBlocks * kBlockValues;
inline constexpr int kHalfBlock = kBlockValues / 2;  // even (or odd) values per block
inline constexpr int kLanes = 16;
inline constexpr size_t kEvenOffset = 0;
inline constexpr size_t kOddOffset = kChunkBlocks * kHalfBlock;
inline constexpr size_t kCorrectionOffset = 2 * kChunkBlocks * kHalfBlock;
inline constexpr size_t kLaneScaleOffset = kCorrectionOffset + kLanes * sizeof(int32_t);
inline constexpr size_t kRecordBytes = kLaneScaleOffset + kLanes * sizeof(float);
static_assert(kRecordBytes == 256, "records start on cache lines");
}  // namespace activation_record

struct QuantizedActivations {
  int tokens = 0;
  int cols = 0;
  int chunks = 0;  // ceil(cols / 128)
  AlignedVector<uint8_t> bytes;  // records start on cache lines

  const uint8_t* Record(int token, int chunk) const {
    return bytes.data() + (static_cast<size_t>(token) * chunks + chunk) * activation_record::kRecordBytes;
  }
};

// Quantises x [m, cols] (cols % 32 == 0) into `out` for weights biased by `weight_bias`,
// reusing its capacity (a steady decode loop does not allocate).
void QuantizeActivations(const float* x, int m, int cols, int weight_bias, QuantizedActivations* out);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_QUANTIZED_ACTIVATIONS_H_
