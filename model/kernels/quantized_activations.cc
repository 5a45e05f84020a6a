#include "model/kernels/quantized_activations.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/kernels/row_kernels.h"

namespace warden::model {
namespace {

using namespace activation_record;  // NOLINT: the record's own constants

// One 32-value block of one token: its values into `even`/`odd` (16 each), its lane scale.
void QuantizeBlock(const float* x, int8_t* even, int8_t* odd, float* lane_scale) {
  const float max = row_kernels::MaxAbsOrNan(x, kBlockValues);
  // A block of zeros or subnormals (whose 127 / max would overflow) counts as zero.
  if (!(max >= std::numeric_limits<float>::min())) {
    *lane_scale = std::isnan(max) ? max : 0.0f;
    return;  // the values stay 0
  }
  const float inverse = 127.0f / max;
  auto quantise = [inverse](float v) {
    return static_cast<int8_t>(std::clamp(row_kernels::RoundToInteger(v * inverse), -127.0f, 127.0f));
  };
  for (int j = 0; j < kHalfBlock; ++j) {
    even[j] = quantise(x[2 * j]);
    odd[j] = quantise(x[2 * j + 1]);
  }
  *lane_scale = max / 127.0f / 2.0f;  // the step, halved for the doubled weights
}

void QuantizeChunk(const float* x, int blocks, int weight_bias, uint8_t* record) {
  float scales[kChunkBlocks] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int b = 0; b < blocks; ++b) {
    QuantizeBlock(x + b * kBlockValues, reinterpret_cast<int8_t*>(record + kEvenOffset + b * kHalfBlock),
                  reinterpret_cast<int8_t*>(record + kOddOffset + b * kHalfBlock), &scales[b]);
  }
  const int8_t* even = reinterpret_cast<const int8_t*>(record + kEvenOffset);
  const int8_t* odd = reinterpret_cast<const int8_t*>(record + kOddOffset);
  int32_t correction[kLanes];
  for (int lane = 0; lane < kLanes; ++lane) {
    int32_t sum = 0;
    for (int j = 0; j < 4; ++j) sum += even[lane * 4 + j] + odd[lane * 4 + j];
    correction[lane] = -weight_bias * sum;
  }
  std::memcpy(record + kCorrectionOffset, correction, sizeof(correction));
  float lane_scales[kLanes];
  for (int lane = 0; lane < kLanes; ++lane) lane_scales[lane] = scales[lane / 4];
  std::memcpy(record + kLaneScaleOffset, lane_scales, sizeof(lane_scales));
}

}  // namespace

void QuantizeActivations(const float* x, int m, int cols, int weight_bias, QuantizedActivations* out) {
  out->tokens = m;
  out->cols = cols;
  out->chunks = (cols + kChunkValues - 1) / kChunkValues;
  out->bytes.assign(static_cast<size_t>(m) * out->chunks * kRecordBytes, 0);
  const int nblocks = cols / kBlockValues;
  for (int t = 0; t < m; ++t) {
    for (int c = 0; c < out->chunks; ++c) {
      const int blocks = std::min(kChunkBlocks, nblocks - c * kChunkBlocks);
      QuantizeChunk(x + static_cast<size_t>(t) * cols + c * kChunkValues, blocks, weight_bias,
                    out->bytes.data() + (static_cast<size_t>(t) * out->chunks + c) * kRecordBytes);
    }
  }
}

}  // namespace warden::model
