// AVX2 + FMA row kernels for CPUs without AVX-512 (e.g. AMD Zen 2/3, older Intel), where
// the engine would otherwise run scalar loops: a scalar dot product is bound by the latency
// of one dependent add per element (~10 x below memory speed for decode).
//
// Same contracts as the portable kernels they stand in for (dense.cc DirectRowsPortable and
// PortableBf16Matmul, mxfp4.cc RowsPortable); only the order of the float32 sums differs.
// Callers check CpuHasAvx2Fma() first. Thread safety: pure functions over disjoint rows.
#ifndef WARDEN_MODEL_KERNELS_AVX2_ROWS_H_
#define WARDEN_MODEL_KERNELS_AVX2_ROWS_H_

#include <cstdint>

#include "model/kernels/int8_dense.h"
#include "model/kernels/int8_dense_tiles.h"
#include "model/kernels/tensor_types.h"

namespace warden::model::avx2_rows {

// From this many rows of x (a prefill's: the engine rounds those to bf16 values) the MXFP4
// kernel decodes 4 rows of W into the thread's buffer once for every 36 rows of x, and the
// bf16 kernel reads whole rows of a 4-row tile (in L1) for blocks of 36 rows of x; below it
// both widen or decode W in registers as it is read, in column slices. Measured (session 31,
// kernels_bench, 2 threads, 4096 x 2880, alternating): the bf16 prefill reading bf16 tiles
// in L1 instead of widening each into a float32 buffer (45 KiB, beyond L1) once per block,
// 64 rows 78-88 -> 80-97 GFLOP/s, 512 rows 83-91 -> 93-101 (same bits: the same TileDot;
// `oss logits`, 200 tokens, --layers 4: identical bytes). The model's prefill, whose bf16
// products are ~1/5 of its multiply-adds, did not move beyond noise (`oss bench --layers 4`,
// 512 tokens: 84.9 / 89.3 -> 86.9 / 88.7 tokens/s).
inline constexpr int kTiledMinRows = 32;

// x ([m, cols]) rewritten for Bf16Rows: within each whole 16 columns, the 8 even columns then
// the 8 odd ones (the order in which one 32-byte load of bf16 pairs yields them as float32);
// the columns past the last whole 16 stay in place.
void Bf16PairLayout(const float* x, int m, int cols, float* out);

// For rows [row_begin, row_end) of W (bf16 [rows, cols]) and each of the m rows of x
// ([m, cols], as Bf16PairLayout lays it out): y[t * w.rows + r] = W[r] . x[t] + bias[r]
// (bias may be null). Four rows of W against three rows of x at a time, one accumulator per
// pair; each pair's sum runs in one order whatever m is, so a row of x gets the same bits
// alone or beside any number of others. The tile four rows of
// W below is prefetched as a tile is read. kernels_bench (2 cores, AMD EPYC, AVX2), 4096 x
// 2880 from memory, two threads, GB/s of weights against the previous kernel (two
// accumulators per row of x, eight bf16 zero-extended per load, four rows of x per row of W):
// 8 rows of x 3.9 -> 11.0, 4 rows 6.4 -> 18.7, 2 rows 11.2 -> 22.6, one row ~15.6 -> ~17.
void Bf16Rows(const Bf16Matrix& w, const float* x, int m, const float* bias, float* y, int64_t row_begin,
              int64_t row_end);

// x ([m, cols], cols a multiple of 32) rewritten for Mxfp4Rows: within each 32-value block,
// the order in which its vpshufb decoding yields the weights.
void Mxfp4Layout(const float* x, int m, int cols, float* out);

// The same as Bf16Rows for MXFP4 W, with x given as Mxfp4Layout lays it out. Each block's
// nibbles become bf16 words of values already scaled by the block's exponent (two 16-byte
// table lookups), then floats, against two rows of x at a time (below kTiledMinRows rows of
// x, the row of W is decoded again for each two). Below kTiledMinRows a row of x gets the
// same bits alone or beside others; from there its pairs' sums run in the tiled product's
// order (one accumulator per pair). kernels_bench (2 cores, AMD EPYC,
// AVX2, 5760 x 2880): one row of x, one thread 3.8 -> 6.4-7.5 GB/s of weights against the
// previous per-lane permute kernel; from memory, two threads 7.4 -> 10.1-10.6; 8 rows of x
// from memory, two threads (decoding again per two rows against decoding once into L1): 6.1
// -> 4.2 ms. Values are scaled in the table, as in the AVX-512 kernel: a
// block whose exponent byte exceeds 252 holds +-inf values (NaN against zeros of x).
void Mxfp4Rows(const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y, int64_t row_begin,
               int64_t row_end);

// The fast mode's int8 dense rows (int8_dense_tiles.h): the same exact integer chunk sums
// and float folding as RowsPortable, so bit for bit its results; 16 weights per pmaddwd. A
// chunk of a row is widened once for up to 16 tokens (kernels_bench, 4096 x 2880 from
// memory, two threads, GB/s of weights: 8 tokens 2.7-2.9 -> 3.4-5.7, 2 tokens 8.3-8.7 ->
// 8.4-11.2, one token unchanged; `oss bench --weights fast --layers 4` batch 8: 16.0-16.2
// -> 24.0-24.1 tokens/s in alternating runs). Measured and dropped (same bench, from memory,
// two threads, alternating, GB/s at 1 / 2 / 8 tokens): two rows of W against four tokens at
// a time, their eight chunk sums reduced into one vector by vphaddd and folded as eight lanes
// (14.6-15.9 / 12.3-13.2 / 4.4-6.1 before, 8.8-9.8 / 8.1-8.9 / 4.4-4.7 after); this loop with
// four tokens' sums reduced and folded together (no change beyond noise, one thread in L2).
// Both compute the same bits (the integer sums are exact). In L2 the loop spends ~12-17
// cycles (at ~2.9 GHz) per token and 128 weights at 4-16 tokens, whose 8 vpmaddwd this core
// retires at 2 per cycle in a register-only loop: the bound is not the multiplies, and without PMU
// counters in this VM it was not found.
void Int8Rows(const Int8Matrix& w, const int8_dense_tiles::Int16Activations& x, const float* bias, float* y,
              int64_t row_begin, int64_t row_end);

}  // namespace warden::model::avx2_rows

#endif  // WARDEN_MODEL_KERNELS_AVX2_ROWS_H_
