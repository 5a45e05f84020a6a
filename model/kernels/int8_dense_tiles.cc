#include "model/kernels/int8_dense_tiles.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/kernels/row_kernels.h"

namespace warden::model::int8_dense_tiles {
namespace {

constexpr int kGroupsPerChunk = kChunkValues / kGroupValues;
constexpr int kPrefetchBytes = 8192;  // as the bf16 kernel (paired_rows.h), measured there

// One chunk of one token: its int16 values into `out`; returns its step.
float QuantizeChunk(const float* x, int n, int16_t* out) {
  const float max = row_kernels::MaxAbsOrNan(x, n);
  // A chunk of zeros or subnormals (whose 32767 / max would overflow) counts as zero.
  if (!(max >= std::numeric_limits<float>::min())) return std::isnan(max) ? max : 0.0f;  // the values stay 0
  const float inverse = 32767.0f / max;
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<int16_t>(std::clamp(row_kernels::RoundToInteger(x[j] * inverse), -32767.0f, 32767.0f));
  }
  return max / 32767.0f;
}

#define WARDEN_INT8_TILES_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// acc[r][t] += the products of chunks [chunk_begin, chunk_end) for kRows weight rows
// (`cols` apart) and kTokens tokens from token0. The unroll pragmas (and the caller's acc,
// inlined) keep the accumulators in registers.
template <int kRows, int kTokens>
WARDEN_INT8_TILES_TARGET inline void AddChunks(const int8_t* rows, int cols, const Int16Activations& x, int token0,
                                               int chunk_begin, int chunk_end, __m512 (&acc)[kRows][kTokens]) {
  const int groups = x.padded_cols / kGroupValues;
  const int full_groups = cols / kGroupValues;
  const __mmask32 tail = (__mmask32{1} << (cols % kGroupValues)) - 1;  // bytes of a last partial group
  const int16_t* x0 = x.values.data() + static_cast<size_t>(token0) * x.padded_cols;
  for (int k = chunk_begin; k < chunk_end; ++k) {
    __m512i sum[kRows][kTokens];
#pragma GCC unroll 2
    for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t) sum[r][t] = _mm512_setzero_si512();
    }
    const int g_end = std::min((k + 1) * kGroupsPerChunk, groups);
    for (int g = k * kGroupsPerChunk; g < g_end; ++g) {
      const int c = g * kGroupValues;
      __m512i w[kRows];
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) {
        const int8_t* p = rows + static_cast<size_t>(r) * cols + c;
        if (kTokens <= 2 && (g & 1) == 0) {  // decode is bound by memory: keep lines in flight
          _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
        }
        const __m256i bytes = g < full_groups ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                                              : _mm256_maskz_loadu_epi8(tail, p);
        w[r] = _mm512_cvtepi8_epi16(bytes);
      }
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t) {
        const __m512i xv = _mm512_load_si512(x0 + static_cast<size_t>(t) * x.padded_cols + c);
#pragma GCC unroll 2
        for (int r = 0; r < kRows; ++r) sum[r][t] = _mm512_add_epi32(sum[r][t], _mm512_madd_epi16(w[r], xv));
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
      const __m512 step = _mm512_set1_ps(x.steps[static_cast<size_t>(token0 + t) * x.chunks + k]);
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) {
        acc[r][t] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(row_kernels::kAllLanes, sum[r][t]), step, acc[r][t]);
      }
    }
  }
}

// One or two tokens: kRows rows over all chunks in one pass (x stays in L1);
// sums[row * kTokens + token].
template <int kRows, int kTokens>
WARDEN_INT8_TILES_TARGET void Tile(const int8_t* rows, int cols, const Int16Activations& x, int token0,
                                   float* sums) {
  __m512 acc[kRows][kTokens];
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  AddChunks<kRows, kTokens>(rows, cols, x, token0, 0, x.chunks, acc);
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) sums[r * kTokens + t] = row_kernels::SumLanes(acc[r][t]);
  }
}

// Three tokens and more: x of 8 tokens (46 KB for gpt-oss) does not fit L1, so a tile of
// up to kMaxTileRows rows walks the chunks in blocks of kBlockChunks (8 KB of x for 8
// tokens), each block serving every row of the tile; the rows' accumulators wait in
// `partial` between blocks. Each row and token still adds its chunks in order.
constexpr int kBlockChunks = 4;

template <int kTokens>
WARDEN_INT8_TILES_TARGET void BlockedTile(const int8_t* rows, int row_count, int cols, const Int16Activations& x,
                                          int token0, float* sums) {
  __m512 partial[row_kernels::kMaxTileRows][kTokens];
  for (int r = 0; r < row_count; ++r) {
    for (int t = 0; t < kTokens; ++t) partial[r][t] = _mm512_setzero_ps();
  }
  for (int k0 = 0; k0 < x.chunks; k0 += kBlockChunks) {
    const int k1 = std::min(k0 + kBlockChunks, x.chunks);
    for (int r = 0; r < row_count; ++r) {
      __m512 acc[1][kTokens];
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t) acc[0][t] = partial[r][t];
      AddChunks<1, kTokens>(rows + static_cast<size_t>(r) * cols, cols, x, token0, k0, k1, acc);
#pragma GCC unroll 8
      for (int t = 0; t < kTokens; ++t) partial[r][t] = acc[0][t];
    }
  }
  for (int r = 0; r < row_count; ++r) {
    for (int t = 0; t < kTokens; ++t) sums[r * kTokens + t] = row_kernels::SumLanes(partial[r][t]);
  }
}

// Up to this many tokens take rows in pairs (two memory streams per thread, each x load
// serving both rows); more take BlockedTile.
constexpr int kPairedMaxTokens = 2;

}  // namespace

void QuantizeInt16(const float* x, int m, int cols, Int16Activations* out) {
  out->tokens = m;
  out->cols = cols;
  out->padded_cols = (cols + kGroupValues - 1) / kGroupValues * kGroupValues;
  out->chunks = (cols + kChunkValues - 1) / kChunkValues;
  out->values.assign(static_cast<size_t>(m) * out->padded_cols, 0);
  out->steps.assign(static_cast<size_t>(m) * out->chunks, 0.0f);
  for (int t = 0; t < m; ++t) {
    for (int k = 0; k < out->chunks; ++k) {
      const int c = k * kChunkValues;
      out->steps[static_cast<size_t>(t) * out->chunks + k] =
          QuantizeChunk(x + static_cast<size_t>(t) * cols + c, std::min(kChunkValues, cols - c),
                        out->values.data() + static_cast<size_t>(t) * out->padded_cols + c);
    }
  }
}

void RowsPortable(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
                  int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = w.data.data() + r * w.cols;
    for (int t = 0; t < x.tokens; ++t) {
      const int16_t* xt = x.values.data() + static_cast<size_t>(t) * x.padded_cols;
      float acc = 0.0f;
      for (int k = 0; k < x.chunks; ++k) {
        int32_t sum = 0;
        for (int c = k * kChunkValues; c < std::min((k + 1) * kChunkValues, w.cols); ++c) sum += row[c] * xt[c];
        acc += static_cast<float>(sum) * x.steps[static_cast<size_t>(t) * x.chunks + k];
      }
      y[static_cast<size_t>(t) * w.rows + r] = acc * w.scales[r] + (bias ? bias[r] : 0.0f);
    }
  }
}

WARDEN_INT8_TILES_TARGET void RowsAvx512(const Int8Matrix& w, const Int16Activations& x, const float* bias,
                                         float* y, int64_t begin, int64_t end) {
  const bool blocked = x.tokens > kPairedMaxTokens;
  row_kernels::ForRowTiles(
      begin, end, w.rows, x.tokens, blocked ? row_kernels::kMaxTileRows : 2, w.scales.data(), bias, y,
      [&](int64_t r, int row_count, int t0, int tokens, float* sums) {
        const int8_t* rows = w.data.data() + r * w.cols;
        if (blocked) {  // every tile, also a last one of 1-2 tokens
          row_kernels::WithTokenCount(tokens, [&](auto n) {
            BlockedTile<decltype(n)::value>(rows, row_count, w.cols, x, t0, sums);
          });
        } else if (row_count == 2) {
          row_kernels::WithTokenCount(tokens, [&](auto n) { Tile<2, decltype(n)::value>(rows, w.cols, x, t0, sums); });
        } else {
          row_kernels::WithTokenCount(tokens, [&](auto n) { Tile<1, decltype(n)::value>(rows, w.cols, x, t0, sums); });
        }
      });
}

}  // namespace warden::model::int8_dense_tiles
