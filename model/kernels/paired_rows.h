// The few-token product of the bf16 dense kernel (and of any weight type a Lanes type
// widens to float32; the int8 kernel once did, see int8_dense_tiles.h for why no longer):
// y[t, r] = row_scale[r] * (W[r] . x[t]) + bias[r], W row-major, widened 16 at a time. Up to two tokens (decode): two
// weight rows per register tile, each x load serves both rows, 2 x tokens independent
// accumulators hide FMA latency for one token. Three to eight tokens (a batch): tiles of
// up to 16 rows walk the columns in blocks so x stays in L1 (BlockedTile). Every weight is
// read once per 8 tokens. Internal to model/kernels; header-only; thread-safe (reads its
// inputs, writes y rows [begin, end)).
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

// acc[r][i] += W[r, c] * x[i, c] for c in [c_begin, c_end) (a multiple of 16 apart), for
// kRows consecutive weight rows `cols` apart and kTokens rows of x `cols` apart. The unroll
// pragmas (and the caller's acc array, inlined) are what keep acc in registers: GCC -O2
// otherwise loops over the tokens with the accumulators in memory.
template <class Lanes, int kRows, int kTokens>
WARDEN_PAIRED_ROWS_TARGET inline void AddColumns(const typename Lanes::Weight* rows, int cols, const float* x,
                                                 int c_begin, int c_end, __m512 (&acc)[kRows][kTokens]) {
  for (int c = c_begin; c < c_end; c += 16) {
    // Decode-sized tiles are bound by memory: one prefetch per cache line, 8 KB ahead in
    // each row (about the next row pair), keeps more lines in flight than the hardware
    // prefetcher alone. One token from DRAM on 2 threads: bf16 21.5 -> 23-24 GB/s, int8
    // 15.4 -> 19.5-21 GB/s against 2 KB ahead (and 16-19 / 11 GB/s without prefetching).
    if (kTokens <= 2 && (c & 31) == 0) {
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(rows + static_cast<size_t>(r) * cols + c) + kPrefetchBytes,
                     _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(rows + static_cast<size_t>(r) * cols + c) +
                         row_kernels::kFarPrefetchBytes,
                     _MM_HINT_T2);
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
}

// sums[i] = the lanes of acc[i] plus the columns past the last multiple of 16, for one
// weight row against kTokens rows of x.
template <class Lanes, int kTokens>
WARDEN_PAIRED_ROWS_TARGET inline void FinishRow(const typename Lanes::Weight* row, int cols, const float* x,
                                                const __m512* acc, float* sums) {
  const int vec_cols = cols / 16 * 16;
  for (int i = 0; i < kTokens; ++i) {
    const float* xt = x + static_cast<size_t>(i) * cols;
    float sum = row_kernels::SumLanes(acc[i]);
    for (int c = vec_cols; c < cols; ++c) sum += Lanes::Scalar(row[c]) * xt[c];
    sums[i] = sum;
  }
}

// kRows consecutive weight rows against kTokens rows of x, all columns in one pass (x of
// up to two tokens stays in L1); sums[row * kTokens + token].
template <class Lanes, int kRows, int kTokens>
WARDEN_PAIRED_ROWS_TARGET inline void Tile(const typename Lanes::Weight* rows, int cols, const float* x,
                                           float* sums) {
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 2
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  AddColumns<Lanes, kRows, kTokens>(rows, cols, x, 0, cols / 16 * 16, acc);
  for (int r = 0; r < kRows; ++r) {
    FinishRow<Lanes, kTokens>(rows + static_cast<size_t>(r) * cols, cols, x, acc[r], sums + r * kTokens);
  }
}

// Why blocks: x of 3-8 tokens (35-92 KB for gpt-oss) does not fit L1, and a row pair that
// walks all columns reloads it from L2 for every pair. So a tile of up to kBlockRows rows
// walks the columns in blocks of kBlockCols: each block of x (16 KB for 8 tokens) is
// loaded into L1 once and serves all the tile's row pairs, whose vector sums wait in
// `partial` (8 KB) between blocks. Every weight is still read once. Measured (kernels_bench,
// 4096 x 2880 bf16, 8 tokens, W and x on cache lines): one pass per pair 53-65 GFLOP/s on
// one thread and 105-119 on two; blocks 69-80 and 137-151.
constexpr int kBlockRows = row_kernels::kMaxTileRows;
constexpr int kBlockCols = 512;

// `row_count` (<= kBlockRows) consecutive weight rows against kTokens rows of x;
// sums[row * kTokens + token].
template <class Lanes, int kTokens>
WARDEN_PAIRED_ROWS_TARGET void BlockedTile(const typename Lanes::Weight* rows, int row_count, int cols,
                                           const float* x, float* sums) {
  __m512 partial[kBlockRows][kTokens];
  for (int r = 0; r < row_count; ++r) {
    for (int i = 0; i < kTokens; ++i) partial[r][i] = _mm512_setzero_ps();
  }
  const int vec_cols = cols / 16 * 16;
  for (int c0 = 0; c0 < vec_cols; c0 += kBlockCols) {
    const int c1 = c0 + kBlockCols < vec_cols ? c0 + kBlockCols : vec_cols;
    int r = 0;
    for (; r + 2 <= row_count; r += 2) {
      __m512 acc[2][kTokens];
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) {
        acc[0][i] = partial[r][i];
        acc[1][i] = partial[r + 1][i];
      }
      AddColumns<Lanes, 2, kTokens>(rows + static_cast<size_t>(r) * cols, cols, x, c0, c1, acc);
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) {
        partial[r][i] = acc[0][i];
        partial[r + 1][i] = acc[1][i];
      }
    }
    if (r < row_count) {
      __m512 acc[1][kTokens];
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) acc[0][i] = partial[r][i];
      AddColumns<Lanes, 1, kTokens>(rows + static_cast<size_t>(r) * cols, cols, x, c0, c1, acc);
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) partial[r][i] = acc[0][i];
    }
  }
  for (int r = 0; r < row_count; ++r) {
    FinishRow<Lanes, kTokens>(rows + static_cast<size_t>(r) * cols, cols, x, partial[r], sums + r * kTokens);
  }
}

// Products of up to kPairedMaxTokens tokens take rows in pairs, one pass over the columns;
// products of more tokens go to BlockedTile (all their tiles, since a tile covers up to
// kBlockRows rows).
constexpr int kPairedMaxTokens = 2;

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
  const bool blocked = m > kPairedMaxTokens;
  row_kernels::ForRowTiles(begin, end, rows, m, blocked ? kBlockRows : 2, row_scales, bias, y,
                           [&](int64_t r, int row_count, int t0, int tokens, float* sums) {
                             const typename Lanes::Weight* w = data + r * cols;
                             const float* xt = x + static_cast<size_t>(t0) * cols;
                             if (blocked) {  // every tile, also a last one of 1-2 tokens
                               row_kernels::WithTokenCount(tokens, [&](auto n) {
                                 BlockedTile<Lanes, decltype(n)::value>(w, row_count, cols, xt, sums);
                               });
                             } else if (row_count == 2) {
                               TileAnyTokens<Lanes, 2>(w, cols, xt, tokens, sums);
                             } else {
                               TileAnyTokens<Lanes, 1>(w, cols, xt, tokens, sums);
                             }
                           });
}

#undef WARDEN_PAIRED_ROWS_TARGET

}  // namespace warden::model::paired_rows

#endif  // WARDEN_MODEL_KERNELS_PAIRED_ROWS_H_
