// The fast mode's int8 dense product (int8_dense.h) against int16 activations: the
// quantiser and the row kernels, internal to model/kernels.
//
// Why int16 activations: widening every weight to float32 (three operations per 16
// weights) made the earlier kernel compute-bound at ~11.7 GB/s per core, below the
// memory's pace on two cores. With x quantised to int16 per 128-value chunk (step
// max|x_chunk| / 32767: the error is at most 1/65534 of the chunk's largest |x|, ~250 times
// smaller than the weights' own int8 rounding) the products are integer: pmaddwd
// multiplies 32 widened weights by 32 int16 values into 16 int32 pair sums, which become
// float once per chunk. Three operations per 32 weights and token remain. Measured
// (kernels_bench, 4096 x 2880 from memory, one token, 2 threads): 23.1 -> 25.9 GB/s, bf16
// 26.8 in the same run; full 20b shape, fast, batch 1: +2 to +7 % in alternating runs.
//
// One arithmetic for every path (portable, AVX-512 BW, VNNI, AMX in int8_dense_amx.h), so
// they give bit-identical results: per (row, token) the exact int32 sum of each 128-value
// chunk (integer sums do not depend on their order; |sum| <= 128 * 127 * 32767 < 2^31),
// folded chunk after chunk into acc = fma(float(sum), step, acc) from 0 (FoldChunk), and
// y = fma(acc, scale, bias) (Finish). So a token's outputs do not depend on the other
// tokens of the product nor on which kernel ran (the engine's fast decode steps rely on
// this: a step of 1-2 rows runs on VNNI, one of 3-16 on AMX). Session 17 made the sums exact
// per chunk (before, per vector lane, then the lanes summed in floats), which costs one
// integer lane reduction per chunk and measured no slower (int8_dense_amx.h).
//
// Thread safety: QuantizeInt16 writes only `out`; the row functions only read their
// inputs and write y, so threads may run them on disjoint row ranges.
#ifndef WARDEN_MODEL_KERNELS_INT8_DENSE_TILES_H_
#define WARDEN_MODEL_KERNELS_INT8_DENSE_TILES_H_

#include <cmath>
#include <cstdint>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/int8_dense.h"

namespace warden::model::int8_dense_tiles {

inline constexpr int kGroupValues = 32;   // one pmaddwd
inline constexpr int kChunkValues = 128;  // one int16 step, one float conversion

// x of `tokens` rows: values[t * padded_cols + c] (zero past cols; rows start on cache
// lines), steps[t * chunks + k] (NaN for a chunk with a non-finite value, 0 for zeros).
struct Int16Activations {
  int tokens = 0;
  int cols = 0;
  int padded_cols = 0;  // cols rounded up to a multiple of kGroupValues
  int chunks = 0;       // ceil(cols / kChunkValues)
  AlignedVector<int16_t> values;
  AlignedVector<float> steps;
};

// acc after one more chunk whose exact integer sum is `sum` and whose step is `step`.
inline float FoldChunk(float acc, int32_t sum, float step) { return std::fma(static_cast<float>(sum), step, acc); }

// The output of a (row, token) from its folded chunks.
inline float Finish(float acc, float row_scale, float bias) { return std::fma(acc, row_scale, bias); }

// Quantises x [m, cols] into `out`, reusing its capacity (a steady decode loop does not
// allocate). The AVX-512 form (kBest on a CPU with it, or kAvx512) gives the same bits.
void QuantizeInt16(const float* x, int m, int cols, Int16Activations* out, KernelIsa isa = KernelIsa::kBest);

// y[t, r] = Finish(fold over chunks k of (int32 sum over chunk k of q[r, c] * x16[t, c]),
// scale[r], bias[r]), for rows [begin, end). All three compute the same integer sums and the
// same floats from them: RowsAvx512 needs AVX-512 BW, RowsVnni also VNNI (one vpdpwssd for
// pmaddwd + paddd: +4 % at batch 8 of the full 20b shape in alternating runs).
void RowsPortable(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
                  int64_t end);
void RowsAvx512(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
                int64_t end);
void RowsVnni(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
              int64_t end);

}  // namespace warden::model::int8_dense_tiles

#endif  // WARDEN_MODEL_KERNELS_INT8_DENSE_TILES_H_
