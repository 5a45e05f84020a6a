// The few-token product shared by the bf16 (exact) and int8 (fast) dense kernels:
// y[t, r] = row_scale[r] * (W[r] . x[t]) + bias[r], W row-major with 16-bit or 8-bit
// weights that a Lanes type widens to float32 16 at a time. Two weight rows and up to 8
// tokens per register tile: each x load serves both rows (x of 8 tokens does not fit L1,
// so its loads limit a batch), a batch of 8 reads each weight once, and 2 x tokens
// independent accumulators hide FMA latency for one token. Internal to model/kernels;
// header-only; thread-safe (reads its inputs, writes y rows [begin, end)).
//
// A Lanes type provides: `using Weight = ...;`, `static __m512 Widen(const Weight*)`
// (AVX-512 target) and `static float Scalar(Weight)`.
#ifndef WARDEN_MODEL_KERNELS_PAIRED_ROWS_H_
#define WARDEN_MODEL_KERNELS_PAIRED_ROWS_H_

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "model/kernels/row_kernels.h"

namespace warden::model::paired_rows {

constexpr int kPrefetchBytes = 8192;

#define WARDEN_PAIRED_ROWS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// kRows consecutive weight rows against kTokens rows of x; sums[row * kTokens + token]. The
// unroll pragmas are what keep acc in registers: GCC -O2 otherwise loops over the tokens
// with the accumulators in memory.
template <class Lanes, int kRows, int kTokens>
WARDEN_PAIRED_ROWS_TARGET inline void Tile(const typename Lanes::Weight* rows, int cols, const float* x,
                                           float* sums) {
  const int vec_cols = cols / 16 * 16;
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 2
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  for (int c = 0; c < vec_cols; c += 16) {
    // Decode-sized tiles are bound by memory: one prefetch per cache line, 8 KB ahead in
    // each row (about the next row pair), keeps more lines in flight than the hardware
    // prefetcher alone. One token from DRAM on 2 threads: bf16 21.5 -> 23-24 GB/s, int8
    // 15.4 -> 19.5-21 GB/s against 2 KB ahead (and 16-19 / 11 GB/s without prefetching).
    if (kTokens <= 2 && (c & 31) == 0) {
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(rows + static_cast<size_t>(r) * cols + c) + kPrefetchBytes,
                     _MM_HINT_T0);
      }
    }
    __m512 wv[kRows];
#pragma GCC unroll 2
    for (int r = 0; r < kRows; ++r) wv[r] = Lanes::Widen(rows + static_cast<size_t>(r) * cols + c);
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + static_cast<size_t>(i) * cols + c);
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) acc[r][i] = _mm512_fmadd_ps(wv[r], xv, acc[r][i]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    const typename Lanes::Weight* row = rows + static_cast<size_t>(r) * cols;
    for (int i = 0; i < kTokens; ++i) {
      const float* xt = x + static_cast<size_t>(i) * cols;
      float sum = row_kernels::SumLanes(acc[r][i]);
      for (int c = vec_cols; c < cols; ++c) sum += Lanes::Scalar(row[c]) * xt[c];
      sums[r * kTokens + i] = sum;
    }
  }
}

template <class Lanes, int kRows>
void TileAnyTokens(const typename Lanes::Weight* rows, int cols, const float* x, int tokens, float* sums) {
  row_kernels::WithTokenCount(tokens, [&](auto n) { Tile<Lanes, kRows, decltype(n)::value>(rows, cols, x, sums); });
}

// Rows [begin, end) of W (`data`, [rows, cols]) against x [m, cols]; y is [m, rows].
// `row_scales` and `bias` may be null.
template <class Lanes>
WARDEN_PAIRED_ROWS_TARGET void Rows(const typename Lanes::Weight* data, int rows, int cols, const float* x, int m,
                                    const float* row_scales, const float* bias, float* y, int64_t begin,
                                    int64_t end) {
  row_kernels::ForRowTiles(begin, end, rows, m, /*pair_rows=*/true, row_scales, bias, y,
                           [&](int64_t r, int row_count, int t0, int tokens, float* sums) {
                             const typename Lanes::Weight* w = data + r * cols;
                             const float* xt = x + static_cast<size_t>(t0) * cols;
                             if (row_count == 2) {
                               TileAnyTokens<Lanes, 2>(w, cols, xt, tokens, sums);
                             } else {
                               TileAnyTokens<Lanes, 1>(w, cols, xt, tokens, sums);
                             }
                           });
}

#undef WARDEN_PAIRED_ROWS_TARGET

}  // namespace warden::model::paired_rows

#endif  // WARDEN_MODEL_KERNELS_PAIRED_ROWS_H_
