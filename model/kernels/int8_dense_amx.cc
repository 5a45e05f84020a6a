#include "model/kernels/int8_dense_amx.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "model/kernels/amx_tiles.h"
#include "model/kernels/row_kernels.h"

namespace warden::model::int8_dense_amx {
namespace {

#define WARDEN_AMX_INT8_TARGET __attribute__((target("amx-tile,amx-int8,avx512f,fma")))

using int8_dense_tiles::kChunkValues;
constexpr int kStepsPerChunk = kChunkValues / kStepCols;
static_assert(kChunkValues % kStepCols == 0, "a chunk is whole tile steps");
static_assert(kMaxTokens <= 16, "a token is a lane of the accumulators");

using amx_tiles::TileConfig;

// tmm0 / tmm1 and tmm5 / tmm6: the int32 sums of the hi / lo digits of a chunk [16 rows x
// tokens], two chunks in flight; tmm2: 16 rows x 64 int8 of W; tmm3 / tmm4: the hi / lo
// digits of one step [16 x tokens * 4 bytes].
TileConfig MakeConfig(int tokens) {
  TileConfig config;
  for (int t = 0; t < 7; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = static_cast<uint16_t>(4 * tokens);
  }
  config.colsb[2] = kStepCols;
  return config;
}

// One prefetch per row and step, this far ahead in the row (16 rows are 16 streams, more
// than the hardware prefetcher follows well), and one into L2 for the same place of the
// next tile's rows (header: measured).
constexpr int kPrefetchBytes = 512;

// Starts chunk k of the 16 rows at w0 (`cols` apart): the exact int32 sums of its hi and
// lo digits accumulate in tmm0 and tmm1, or tmm5 and tmm6 for the second pair (tmm2-4 hold
// W and the digits of one step).
template <bool kSecondPair>
WARDEN_AMX_INT8_TARGET inline void MultiplyChunk(const int8_t* w0, int cols, const Digits& x, int k) {
  const long stride = 4L * x.tokens;
  const int steps = x.cols / kStepCols;
  // GCC's tile intrinsics take literal register numbers (they are pasted into the asm).
  if constexpr (kSecondPair) {
    _tile_zero(5);
    _tile_zero(6);
  } else {
    _tile_zero(0);
    _tile_zero(1);
  }
  for (int s = k * kStepsPerChunk; s < std::min((k + 1) * kStepsPerChunk, steps); ++s) {
    const char* ahead = reinterpret_cast<const char*>(w0 + s * kStepCols);
    for (int r = 0; r < kTileRows; ++r) {
      _mm_prefetch(ahead + static_cast<size_t>(r) * cols + kPrefetchBytes, _MM_HINT_T0);
      _mm_prefetch(ahead + static_cast<size_t>(r + kTileRows) * cols, _MM_HINT_T2);
    }
    _tile_loadd(2, w0 + s * kStepCols, cols);
    _tile_loadd(3, x.hi.data() + static_cast<size_t>(s) * 16 * stride, stride);
    _tile_loadd(4, x.lo.data() + static_cast<size_t>(s) * 16 * stride, stride);
    if constexpr (kSecondPair) {
      _tile_dpbssd(5, 2, 3);
      _tile_dpbsud(6, 2, 4);
    } else {
      _tile_dpbssd(0, 2, 3);
      _tile_dpbsud(1, 2, 4);
    }
  }
}

// Folds chunk k's sums (the pair's tiles) into acc[i] (lane t: token t), FoldChunk's
// arithmetic lane by lane.
template <bool kSecondPair>
WARDEN_AMX_INT8_TARGET inline void FoldTiles(const Digits& x, int k, int32_t* c_hi, int32_t* c_lo,
                                             __m512 (&acc)[kTileRows]) {
  if constexpr (kSecondPair) {
    _tile_stored(5, c_hi, 64);
    _tile_stored(6, c_lo, 64);
  } else {
    _tile_stored(0, c_hi, 64);
    _tile_stored(1, c_lo, 64);
  }
  const __mmask16 lanes = static_cast<__mmask16>((1u << x.tokens) - 1);
  const __m512 step = _mm512_load_ps(x.steps.data() + static_cast<size_t>(k) * 16);
  for (int i = 0; i < kTileRows; ++i) {
    const __m512i hi = _mm512_maskz_loadu_epi32(lanes, c_hi + i * 16);
    const __m512i lo = _mm512_maskz_loadu_epi32(lanes, c_lo + i * 16);
    const __m512i sum = _mm512_add_epi32(_mm512_maskz_slli_epi32(row_kernels::kAllLanes, hi, 8), lo);  // exact
    acc[i] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(row_kernels::kAllLanes, sum), step, acc[i]);
  }
}

WARDEN_AMX_INT8_TARGET int64_t RowsAmx(const Int8Matrix& w, const Digits& x, const float* bias, float* y,
                                       int64_t row_begin, int64_t row_end) {
  const TileConfig config = MakeConfig(x.tokens);
  _tile_loadconfig(&config);
  alignas(64) int32_t c_hi[kTileRows * 16];
  alignas(64) int32_t c_lo[kTileRows * 16];
  alignas(64) float out[16];
  int64_t r = row_begin;
  for (; r + kTileRows <= row_end; r += kTileRows) {
    const int8_t* w0 = w.data.data() + r * w.cols;
    __m512 acc[kTileRows];
    for (int i = 0; i < kTileRows; ++i) acc[i] = _mm512_setzero_ps();
    // Two pairs of sum tiles, alternating, so the tiles multiply chunk k + 1 while the
    // vector units fold chunk k (one pair: 15-19 GB/s at 3-8 tokens; see the header).
    MultiplyChunk<false>(w0, w.cols, x, 0);
    for (int k = 0; k < x.chunks; k += 2) {
      if (k + 1 < x.chunks) MultiplyChunk<true>(w0, w.cols, x, k + 1);
      FoldTiles<false>(x, k, c_hi, c_lo, acc);
      if (k + 1 == x.chunks) break;
      if (k + 2 < x.chunks) MultiplyChunk<false>(w0, w.cols, x, k + 2);
      FoldTiles<true>(x, k + 1, c_hi, c_lo, acc);
    }
    for (int i = 0; i < kTileRows; ++i) {  // Finish, per lane
      const __m512 offset = _mm512_set1_ps(bias ? bias[r + i] : 0.0f);
      _mm512_store_ps(out, _mm512_fmadd_ps(acc[i], _mm512_set1_ps(w.scales[r + i]), offset));
      for (int t = 0; t < x.tokens; ++t) y[static_cast<size_t>(t) * w.rows + r + i] = out[t];
    }
  }
  _tile_release();
  return r;
}

// The low bytes of the 32 int16 of v (masked form with every lane set: GCC 12's unmasked
// ones trip -Wmaybe-uninitialized).
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline __m256i LowBytes(__m512i v) {
  return _mm512_maskz_cvtepi16_epi8(0xFFFFFFFF, v);
}

// Token t's int16 values (`steps` x 64) as digits: column c of step s is byte c % 4 of the
// token's 4 bytes in row c / 4 of the step's tile (rows 4 * tokens bytes apart). Each 32
// columns' low (high) bytes are 8 dwords, one per tile row: one scatter each.
// Measured: the scalar loop it replaced (per value, index arithmetic) took about a third
// of the time the 8-token product spent outside the tiles.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void PackToken(const int16_t* values, int steps, int tokens,
                                                                    int t, int8_t* hi, uint8_t* lo) {
  const int row_bytes = 4 * tokens;
  const __m256i rows = _mm256_mullo_epi32(_mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0), _mm256_set1_epi32(row_bytes));
  const __m512i low_byte = _mm512_set1_epi16(0xFF);
  const size_t step_bytes = static_cast<size_t>(16) * row_bytes;
  for (int s = 0; s < steps; ++s) {
    for (int half = 0; half < 2; ++half) {  // columns 32 * half .. + 31: tile rows 8 * half .. + 7
      const __m512i v = _mm512_loadu_si512(values + s * kStepCols + 32 * half);
      const size_t at = s * step_bytes + static_cast<size_t>(8 * half) * row_bytes + 4 * t;
      // lo = v & 0xFF, hi = (v - lo) / 256 = v >> 8 (arithmetic): v = 256 * hi + lo exactly.
      _mm256_i32scatter_epi32(lo + at, rows, LowBytes(_mm512_and_si512(v, low_byte)), 1);
      _mm256_i32scatter_epi32(hi + at, rows, LowBytes(_mm512_srai_epi16(v, 8)), 1);
    }
  }
}

}  // namespace

bool Available() {
  static const bool available = amx_tiles::CpuHasAmx(amx_tiles::kAmxInt8Bit) && amx_tiles::TileStateGranted();
  return available;
}

bool Handles(int tokens, int cols) {
  return tokens >= kMinTokens && tokens <= kMaxTokens && cols > 0 && cols % kStepCols == 0;
}

void Pack(const int8_dense_tiles::Int16Activations& x, Digits* out) {
  const int tokens = x.tokens;
  const int steps = x.cols / kStepCols;
  out->tokens = tokens;
  out->cols = x.cols;
  out->chunks = x.chunks;
  const size_t bytes = static_cast<size_t>(steps) * 16 * 4 * tokens;
  out->hi.resize(bytes);
  out->lo.resize(bytes);
  out->steps.assign(static_cast<size_t>(x.chunks) * 16, 0.0f);
  for (int t = 0; t < tokens; ++t) {
    PackToken(x.values.data() + static_cast<size_t>(t) * x.padded_cols, steps, tokens, t, out->hi.data(),
              out->lo.data());
    for (int k = 0; k < x.chunks; ++k) out->steps[static_cast<size_t>(k) * 16 + t] = x.steps[static_cast<size_t>(t) * x.chunks + k];
  }
}

int64_t Rows(const Int8Matrix& w, const Digits& x, const float* bias, float* y, int64_t row_begin,
             int64_t row_end) {
  return RowsAmx(w, x, bias, y, row_begin, row_end);
}

}  // namespace warden::model::int8_dense_amx
