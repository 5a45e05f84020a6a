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
// Without VNNI (AVX2 CPUs: AMD Zen 2/3) vpmaddubsw + vpmaddwd compute the same integer sums
// from the same records (about eight operations per token and 64 weights, besides the
// decode). On a 2-core Zen 3, 5760 x 2880 from DRAM, 2 threads, one token: the float32 AVX2
// kernel 7.8-10.8 GB/s, this 11.2-12.3 (one thread in L2: 5.1 -> 10.9); full 20b `fast`
// decode (alternating runs) 3.64 / 3.65 -> 3.98 / 4.44 tokens/s, batch 8 6.45 / 6.87 ->
// 8.05 / 9.00. Measured and dropped there: a second accumulator chain per token (no
// change), per-block scales broadcast from a float table with a blend (m = 1 half as fast),
// the VNNI kernel's two software prefetches (kernels_bench from DRAM, 2 threads, one token
// 10.8-13.5 -> 14.7-17.5 GB/s, but the full 20b `fast` decode in alternating runs 5.65 /
// 4.85 without, 4.49 / 5.18 tokens/s with: no gain in the model).
//
// Activations are quantised per token and per 32-value block (quantized_activations.h):
// the error is at most 1/254 of the block's largest |x|. This is the fast weight mode's
// accuracy; the exact mode keeps float32 activations (a two-level int16 form, 2^-15 of the
// largest value, was measured: no faster in the model, so it was dropped).
// The integer sums are exact; they become float32 once per 4 lanes of a block. A scale byte
// of 0 (2^-127) counts as 0.
//
// Thread safety: the row functions only read their inputs and write y, so several threads
// may run them on disjoint row ranges.
#ifndef WARDEN_MODEL_KERNELS_MXFP4_INT8_H_
#define WARDEN_MODEL_KERNELS_MXFP4_INT8_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/kernels/quantized_activations.h"
#include "model/kernels/tensor_types.h"

namespace warden::model::mxfp4_int8 {

// The weights enter vpdpbusd as unsigned 2w + 12 in [0, 24]: quantise x with this bias.
inline constexpr int kWeightBias = 12;

// y[t, r] = sum_c W[r, c] * x~[t, c] + bias[r] for rows [row_begin, row_end); x~ is the
// quantised x. The portable and the VNNI versions compute the same integer sums.
void RowsPortable(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
                  int64_t row_begin, int64_t row_end);
void RowsVnni(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
              int64_t row_begin, int64_t row_end);
// AVX2 (no VNNI): vpmaddubsw and vpmaddwd compute the same integer sums.
void RowsAvx2(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
              int64_t row_begin, int64_t row_end);

}  // namespace warden::model::mxfp4_int8

#endif  // WARDEN_MODEL_KERNELS_MXFP4_INT8_H_
