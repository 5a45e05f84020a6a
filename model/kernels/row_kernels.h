// Pieces shared by the row-wise matrix kernels (bf16 dense, int8 dense, MXFP4): AVX-512
// helpers that keep GCC 12 quiet, and the rule for when a product is worth the threads.
// Internal to model/kernels; header-only.
#ifndef WARDEN_MODEL_KERNELS_ROW_KERNELS_H_
#define WARDEN_MODEL_KERNELS_ROW_KERNELS_H_

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "model/kernels/thread_pool.h"

namespace warden::model::row_kernels {

// Masked intrinsic forms with every lane set: GCC 12's unmasked forms trip
// -Wmaybe-uninitialized through _mm512_undefined_*.
constexpr __mmask16 kAllLanes = 0xFFFF;

// The decode kernels' second prefetch per cache line, this far ahead into L2 (prefetcht2),
// next to each kernel's own near prefetch (float32 and int8 MXFP4, bf16 and int8 dense
// rows). Session 16, full 20b shape, alternating runs of binaries differing only in these
// prefetches: exact decode 6.11 / 6.21 -> 6.42 / 6.28 tokens/s, `fast` 9.76 / 10.06 -> 9.93 /
// 10.26 (probe 29.5-30.5 GB/s); the float32 MXFP4 kernel's alone 5.05-5.57 -> 5.63-6.01 in
// four pairs. 32, 128 and 256 KB measured no better than 64.
constexpr int kFarPrefetchBytes = 65536;

// Round to nearest, ties to even, for |v| < 2^22 (activation quantisers: values within
// +-32768): adding and removing 1.5 * 2^23 leaves no fraction bits (IEEE float arithmetic,
// which GCC keeps without -ffast-math). Inline, unlike std::nearbyint (a library call
// without SSE4.1), which made quantising a third of a small product.
inline float RoundToInteger(float v) {
  constexpr float kMagic = 12582912.0f;
  return (v + kMagic) - kMagic;
}

// The largest |x[j]| for j < n, or NaN when a value is not finite (activation quantisers
// then give the block a NaN step, so its products are NaN as in float32).
inline float MaxAbsOrNan(const float* x, int n) {
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (!std::isfinite(x[j])) return std::numeric_limits<float>::quiet_NaN();
    max = std::max(max, std::fabs(x[j]));
  }
  return max;
}

// FloatToBf16 (tensor_types.h) on 16 lanes, bit for bit: round to nearest even, a NaN kept
// NaN (quiet bit set); the bf16 in the low 16 bits of each lane, the high 16 bits zero.
__attribute__((target("avx512f"))) inline __m512i Bf16Lanes(__m512 x) {
  const __m512i bits = _mm512_castps_si512(x);
  const __m512i upper = _mm512_maskz_srli_epi32(kAllLanes, bits, 16);
  const __m512i rounding = _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(upper, _mm512_set1_epi32(1)));
  const __m512i rounded = _mm512_maskz_srli_epi32(kAllLanes, _mm512_add_epi32(bits, rounding), 16);
  const __mmask16 nan =
      _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(upper, _mm512_set1_epi32(0x40)));
}

// Horizontal sum as a tree of halvings (a chain of 16 scalar adds cost ~64 cycles of
// latency per row and token); written with masked/cast forms because GCC 12's
// _mm512_reduce_add_ps and unmasked extracts trip -Wmaybe-uninitialized.
__attribute__((target("avx512f"))) inline float SumLanes(__m512 v) {
  const __m256 low = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 0));
  const __m256 high = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 1));
  const __m256 eight = _mm256_add_ps(low, high);
  __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
  four = _mm_add_ps(four, _mm_movehl_ps(four, four));
  four = _mm_add_ss(four, _mm_movehdup_ps(four));
  return _mm_cvtss_f32(four);
}

// The exact sum of the 16 int32 lanes (wrapping, as integer adds do; callers keep sums
// within int32). Integer addition is associative, so any order gives the same value.
__attribute__((target("avx512f"))) inline int32_t SumInt32Lanes(__m512i v) {
  const __m256i eight =
      _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xF, v, 0), _mm512_maskz_extracti64x4_epi64(0xF, v, 1));
  __m128i four = _mm_add_epi32(_mm256_castsi256_si128(eight), _mm256_extracti128_si256(eight, 1));
  four = _mm_add_epi32(four, _mm_shuffle_epi32(four, 0x4E));
  four = _mm_add_epi32(four, _mm_shuffle_epi32(four, 0xB1));
  return _mm_cvtsi128_si32(four);
}

// The row kernels keep their accumulators in registers only when the token count is a
// template parameter: this turns a run-time count (clamped to [1, kMaxTileTokens]) into
// tile(std::integral_constant<int, n>{}). `tile` should pass no vector by value (it is a
// plain lambda, compiled without the kernels' AVX-512 target).
inline constexpr int kMaxTileTokens = 8;
template <typename Tile>
inline void WithTokenCount(int tokens, Tile&& tile) {
  switch (tokens) {
    case 1: tile(std::integral_constant<int, 1>{}); break;
    case 2: tile(std::integral_constant<int, 2>{}); break;
    case 3: tile(std::integral_constant<int, 3>{}); break;
    case 4: tile(std::integral_constant<int, 4>{}); break;
    case 5: tile(std::integral_constant<int, 5>{}); break;
    case 6: tile(std::integral_constant<int, 6>{}); break;
    case 7: tile(std::integral_constant<int, 7>{}); break;
    default: tile(std::integral_constant<int, kMaxTileTokens>{}); break;
  }
}

// Rows [begin, end) of a product y[t, r] (`rows` rows, `tokens` tokens) in tiles of up to
// `tile_rows` rows (at most kMaxTileRows; the last tile of the range may have fewer) and
// kMaxTileTokens tokens. tile(row, row_count, token, token_count, sums) fills
// sums[i * token_count + t] for rows row + i and tokens token + t; then
// y[t, r] = sums * row_scales[r] + bias[r] (either may be null: 1 and 0).
inline constexpr int kMaxTileRows = 16;
template <typename Tile>
inline void ForRowTiles(int64_t begin, int64_t end, int rows, int tokens, int tile_rows, const float* row_scales,
                        const float* bias, float* y, Tile&& tile) {
  float sums[kMaxTileRows * kMaxTileTokens];
  tile_rows = tile_rows < 1 ? 1 : (tile_rows > kMaxTileRows ? kMaxTileRows : tile_rows);
  for (int64_t r = begin; r < end;) {
    const int row_count = end - r >= tile_rows ? tile_rows : static_cast<int>(end - r);
    for (int t0 = 0; t0 < tokens; t0 += kMaxTileTokens) {
      const int token_count = tokens - t0 < kMaxTileTokens ? tokens - t0 : kMaxTileTokens;
      tile(r, row_count, t0, token_count, sums);
      for (int p = 0; p < row_count; ++p) {
        const float scale = row_scales ? row_scales[r + p] : 1.0f;
        const float offset = bias ? bias[r + p] : 0.0f;
        for (int i = 0; i < token_count; ++i) {
          y[static_cast<size_t>(t0 + i) * rows + r + p] = sums[p * token_count + i] * scale + offset;
        }
      }
    }
    r += row_count;
  }
}

// Runs rows(begin, end) over [0, num_rows): split over `pool` when the product has at least
// 64K multiply-adds (below that the threads cost more than they save), else inline.
// `pool` may be null (always inline).
template <typename RowFn>
void ForRows(ThreadPool* pool, int64_t num_rows, int64_t multiply_adds, const RowFn& rows) {
  if (pool != nullptr && multiply_adds >= (int64_t{1} << 16)) {
    pool->ParallelFor(num_rows, rows);
  } else {
    rows(0, num_rows);
  }
}

}  // namespace warden::model::row_kernels

#endif  // WARDEN_MODEL_KERNELS_ROW_KERNELS_H_
