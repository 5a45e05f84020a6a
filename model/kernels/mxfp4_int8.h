// MXFP4 products against integer-quantised activations (internal to model/kernels).
//
// Why: the float32 MXFP4 kernel spends about seven vector operations per 32 weights
// (widen, two table permutes, shift, three multiply-adds); on two cores that is close to
// the memory's pace, and the experts of the full model decoded at 12.6-14 GB/s where
// dense bf16 rows stream at ~20-24. Twice every e2m1 value is an integer in [-12, 12], so
// with x quantised to int8 per 32-value block the products are exact integer dot products:
// VNNI's vpdpbusd does 64 of them per instruction, and one shuffle turns 64 nibbles into
// weights; about three operations per 32 weights remain. Measured on 2 cores: an 8.8 MB
// matrix from cache 25 -> 38 GB/s; the full model's experts from DRAM 12.6-14 -> 14.6-16.7
// GB/s; fast-mode decode of the full 20b shape +5 to +14 % (alternating runs, 5.48 -> 5.88
// tok/s median).
//
// Activations are quantised per token and per 32-value block b, with the step
// s_b = max|x_b| / 127 and q = round(x / s_b): the error is at most s_b / 2, i.e. 1/254 of
// the block's largest |x| (as llama.cpp's q8_0). This is the fast weight mode's accuracy;
// the exact mode keeps float32 activations (a two-level int16 form, 2^-15 of the largest
// value, was measured: no faster in the model, so it was dropped).
// The integer sums are exact; they become float32 once per 4 lanes of a block. A block
// whose values are not all finite gets a NaN scale, so its products are NaN as in float32.
// A scale byte of 0 (2^-127) counts as 0.
//
// Thread safety: Quantize writes only `out`; the row functions only read their inputs and
// write y, so several threads may run them on disjoint row ranges.
#ifndef WARDEN_MODEL_KERNELS_MXFP4_INT8_H_
#define WARDEN_MODEL_KERNELS_MXFP4_INT8_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/tensor_types.h"

namespace warden::model::mxfp4_int8 {

inline constexpr int kChunkBlocks = 4;
inline constexpr int kChunkValues = 128;
inline constexpr size_t kRecordBytes = 256;

// x of m tokens, quantised and laid out for the kernels: per token, per chunk of 4 blocks
// (128 values), one record of kRecordBytes:
//   even values [4 blocks x 16] int8, odd values [4 x 16] int8;
//   16 int32 corrections, -12 * (sum of the 8 values a lane multiplies);
//   16 float32 lane scales, s_b / 2, for lane / 4 = b.
// The weights enter vpdpbusd as unsigned 2w + 12; the correction removes the + 12.
// A chunk past the last block is zero-filled.
struct QuantizedActivations {
  int tokens = 0;
  int cols = 0;
  int chunks = 0;  // ceil(cols / 128)
  AlignedVector<uint8_t> bytes;  // records start on cache lines

  const uint8_t* Record(int token, int chunk) const {
    return bytes.data() + (static_cast<size_t>(token) * chunks + chunk) * kRecordBytes;
  }
};

// Quantises x [m, cols] (cols % 32 == 0) into `out`, reusing its capacity (a steady decode
// loop does not allocate).
void Quantize(const float* x, int m, int cols, QuantizedActivations* out);

// y[t, r] = sum_c W[r, c] * x~[t, c] + bias[r] for rows [row_begin, row_end); x~ is the
// quantised x. The portable and the VNNI versions compute the same integer sums.
void RowsPortable(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
                  int64_t row_begin, int64_t row_end);
void RowsVnni(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
              int64_t row_begin, int64_t row_end);

// True when the CPU runs RowsVnni (AVX-512 F/BW/VL/DQ and VNNI).
bool CpuHasVnni();

}  // namespace warden::model::mxfp4_int8

#endif  // WARDEN_MODEL_KERNELS_MXFP4_INT8_H_
