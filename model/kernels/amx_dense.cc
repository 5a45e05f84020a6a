#include "model/kernels/amx_dense.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>
#include <cstddef>

#include "model/kernels/amx_tiles.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/row_kernels.h"

namespace warden::model::amx_dense {
namespace {

#define WARDEN_AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f")))

using amx_tiles::TileConfig;

// Every tile is 16 rows of 64 bytes: tmm0-3 accumulate [16 W rows x 16 columns of x] in
// float32 (block b, group g in tmm b + 2g), tmm4-5 hold two blocks of W (16 rows x 32 bf16)
// and tmm6-7 the two groups of x (16 column pairs x 16 columns).
TileConfig MakeConfig() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.colsb[t] = 64;
    config.rows[t] = 16;
  }
  return config;
}

// One prefetch per row and step, this far ahead in the row: a tile load touches 16 rows
// 64 bytes each, more streams than the hardware prefetcher follows well.
constexpr int kPrefetchBytes = 256;

// c[(block * kGroups + g) * 256 + row * 16 + column] = (kBlocks x 16 rows of W from w) .
// (x group g), over all cols.
template <int kBlocks, int kGroups>
WARDEN_AMX_TARGET void MultiplyTiles(const uint16_t* w, int cols, const uint16_t* x0, const uint16_t* x1,
                                     float* c) {
  const long stride = static_cast<long>(cols) * sizeof(uint16_t);
  const uint16_t* w1 = w + static_cast<size_t>(kTileRows) * cols;
  _tile_zero(0);
  if constexpr (kBlocks == 2) _tile_zero(1);
  if constexpr (kGroups == 2) _tile_zero(2);
  if constexpr (kBlocks == 2 && kGroups == 2) _tile_zero(3);
  for (int k = 0; k < cols; k += kTileDepth) {
    const char* ahead = reinterpret_cast<const char*>(w + k) + kPrefetchBytes;
    for (int r = 0; r < kBlocks * kTileRows; ++r) _mm_prefetch(ahead + r * stride, _MM_HINT_T0);
    _tile_loadd(4, w + k, stride);
    if constexpr (kBlocks == 2) _tile_loadd(5, w1 + k, stride);
    _tile_loadd(6, x0 + static_cast<size_t>(k) * 16, 64);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (kBlocks == 2) _tile_dpbf16ps(1, 5, 6);
    if constexpr (kGroups == 2) {
      _tile_loadd(7, x1 + static_cast<size_t>(k) * 16, 64);
      _tile_dpbf16ps(2, 4, 7);
      if constexpr (kBlocks == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, c, 64);
  if constexpr (kBlocks == 2) _tile_stored(1, c + kGroups * 256, 64);
  if constexpr (kGroups == 2) _tile_stored(2, c + 256, 64);
  if constexpr (kBlocks == 2 && kGroups == 2) _tile_stored(3, c + 3 * 256, 64);
}

template <int kBlocks>
WARDEN_AMX_TARGET void MultiplyBlocks(const uint16_t* w, const PackedActivations& x, float* c) {
  if (x.groups == 1) {
    MultiplyTiles<kBlocks, 1>(w, x.cols, x.Group(0), nullptr, c);
  } else {
    MultiplyTiles<kBlocks, 2>(w, x.cols, x.Group(0), x.Group(1), c);
  }
}

// y[t, row0 + i] = hi + lo parts of token t for the blocks' rows, plus bias: a tile's
// column (one token, 16 rows of W) is gathered into a vector and stored as 16 consecutive
// values of y (the sums as the scalar loop formed them: (hi + lo) + bias, bias 0 if null).
// Measured: the scalar version was ~5 % of a 4-KB LLM judgement's compute.
__attribute__((target("avx512f"))) void AddParts(const PackedActivations& x, int blocks, const float* c,
                                                 int64_t row0, int64_t y_stride, const float* bias, float* y) {
  const __m512i column = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
  for (int b = 0; b < blocks; ++b) {
    const int64_t r = row0 + b * kTileRows;
    const __m512 add = bias != nullptr ? _mm512_loadu_ps(bias + r) : _mm512_setzero_ps();
    for (int t = 0; t < x.tokens; ++t) {
      const int hi = t, lo = x.tokens + t;
      const float* hi_tile = c + (b * x.groups + hi / 16) * 256;
      // Masked forms with every lane set: GCC 12's unmasked gather trips -Wmaybe-uninitialized.
      __m512 sum = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, column, hi_tile + hi % 16, sizeof(float));
      if (x.has_lo) {
        const float* lo_tile = c + (b * x.groups + lo / 16) * 256;
        sum = _mm512_add_ps(
            sum, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, column, lo_tile + lo % 16, sizeof(float)));
      }
      _mm512_storeu_ps(y + t * y_stride + r, _mm512_add_ps(sum, add));
    }
  }
}

// Rows [row_begin, row_end) of a W whose row row_begin + i is w_rows + i * cols; y and
// bias are indexed by W's own rows (y_stride of them).
WARDEN_AMX_TARGET int64_t RowsAmx(const uint16_t* w_rows, int cols, int64_t y_stride, const PackedActivations& x,
                                  const float* bias, float* y, int64_t row_begin, int64_t row_end) {
  static const TileConfig config = MakeConfig();
  _tile_loadconfig(&config);
  alignas(64) float c[2 * 2 * 256];
  int64_t r = row_begin;
  for (; r + 2 * kTileRows <= row_end; r += 2 * kTileRows) {
    MultiplyBlocks<2>(w_rows + (r - row_begin) * cols, x, c);
    AddParts(x, 2, c, r, y_stride, bias, y);
  }
  if (r + kTileRows <= row_end) {
    MultiplyBlocks<1>(w_rows + (r - row_begin) * cols, x, c);
    AddParts(x, 1, c, r, y_stride, bias, y);
    r += kTileRows;
  }
  _tile_release();
  return r;
}

// c as in MultiplyTiles, for 2 blocks of 16 rows of W that `fill` writes kChunkCols
// columns at a time into `chunk` ([32][kChunkCols] bf16, L1-sized), accumulated in the
// tiles across the chunks.
template <int kGroups>
WARDEN_AMX_TARGET void MultiplyFilledTiles(int64_t row, int cols, const uint16_t* x0, const uint16_t* x1,
                                           const ChunkFill& fill, uint16_t* chunk, float* c) {
  constexpr long kStride = kChunkCols * sizeof(uint16_t);
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (kGroups == 2) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int k0 = 0; k0 < cols; k0 += kChunkCols) {
    const int width = std::min(kChunkCols, cols - k0);
    fill(row, k0, width, chunk);
    for (int k = 0; k < width; k += kTileDepth) {
      _tile_loadd(4, chunk + k, kStride);
      _tile_loadd(5, chunk + kTileRows * kChunkCols + k, kStride);
      _tile_loadd(6, x0 + static_cast<size_t>(k0 + k) * 16, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 5, 6);
      if constexpr (kGroups == 2) {
        _tile_loadd(7, x1 + static_cast<size_t>(k0 + k) * 16, 64);
        _tile_dpbf16ps(2, 4, 7);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
  }
  _tile_stored(0, c, 64);
  _tile_stored(1, c + kGroups * 256, 64);
  if constexpr (kGroups == 2) {
    _tile_stored(2, c + 256, 64);
    _tile_stored(3, c + 3 * 256, 64);
  }
}

WARDEN_AMX_TARGET void RowsFilledAmx(int64_t total_rows, int cols, const PackedActivations& x, const float* bias,
                                     float* y, int64_t row_begin, int64_t row_end, const ChunkFill& fill) {
  static const TileConfig config = MakeConfig();
  alignas(64) uint16_t chunk[2 * kTileRows * kChunkCols];
  alignas(64) float c[2 * 2 * 256];
  _tile_loadconfig(&config);
  for (int64_t r = row_begin; r < row_end; r += 2 * kTileRows) {
    if (x.groups == 1) {
      MultiplyFilledTiles<1>(r, cols, x.Group(0), nullptr, fill, chunk, c);
    } else {
      MultiplyFilledTiles<2>(r, cols, x.Group(0), x.Group(1), fill, chunk, c);
    }
    AddParts(x, 2, c, r, total_rows, bias, y);
  }
  _tile_release();
}

// Where column `column` of the packed x starts: its value for x column c is at
// start[(c / 2) * 32 + (c & 1)] (16 columns per group, column pairs interleaved).
uint16_t* ColumnStart(PackedActivations* out, int column) {
  return out->data.data() + static_cast<size_t>(column / 16) * out->cols * 16 + (column % 16) * 2;
}

// kTileDepth values of one row of x into its hi column and, when lo is not null, its lo
// column (bf16(x - hi)); hi and lo point at the step's first pair.
void PackStepPortable(const float* x, uint16_t* hi, uint16_t* lo) {
  for (int c = 0; c < kTileDepth; ++c) {
    const size_t at = static_cast<size_t>(c / 2) * 32 + (c & 1);
    hi[at] = FloatToBf16(x[c]);
    if (lo != nullptr) lo[at] = FloatToBf16(x[c] - Bf16ToFloat(hi[at]));
  }
}

#define WARDEN_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

using row_kernels::Bf16Lanes;
using row_kernels::kAllLanes;

// The float whose top half is lane's low 16 bits (a bf16 value, exactly).
WARDEN_AVX512_TARGET inline __m512 Bf16LanesToFloat(__m512i bf16) {
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAllLanes, bf16, 16));
}

// 32 values of a column, bf16 in the low halves of a (x columns c..c+15) and b (c+16..c+31),
// as the 16 pairs (c + 2j, c + 2j + 1) written 32 values apart from `at`.
WARDEN_AVX512_TARGET inline void ScatterPairs(__m512i a, __m512i b, uint16_t* at) {
  // Word k of the pairs is value k, the low word of lane k of (a, b): word 2k of the 64.
  alignas(64) static constexpr uint16_t kLowWords[32] = {0,  2,  4,  6,  8,  10, 12, 14, 16, 18, 20,
                                                         22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42,
                                                         44, 46, 48, 50, 52, 54, 56, 58, 60, 62};
  const __m512i pairs = _mm512_permutex2var_epi16(a, _mm512_load_si512(kLowWords), b);
  // Pair j goes 32 values (16 int32) after pair j - 1.
  const __m512i offsets =
      _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
  _mm512_i32scatter_epi32(at, offsets, pairs, 4);
}

// PackStepPortable's values, 16 at a time.
WARDEN_AVX512_TARGET void PackStepAvx512(const float* x, uint16_t* hi, uint16_t* lo) {
  static_assert(kTileDepth == 32, "one step is two vectors of 16 floats");
  const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const __m512i a_hi = Bf16Lanes(a), b_hi = Bf16Lanes(b);
  ScatterPairs(a_hi, b_hi, hi);
  if (lo == nullptr) return;
  const __m512 a_lo = _mm512_sub_ps(a, Bf16LanesToFloat(a_hi));
  const __m512 b_lo = _mm512_sub_ps(b, Bf16LanesToFloat(b_hi));
  ScatterPairs(Bf16Lanes(a_lo), Bf16Lanes(b_lo), lo);
}

}  // namespace

bool Available() {
  static const bool available = amx_tiles::CpuHasAmx(amx_tiles::kAmxBf16Bit) && amx_tiles::TileStateGranted();
  return available;
}

bool Handles(int m, int cols) { return m >= 1 && m <= kMaxTokens && cols > 0 && cols % kTileDepth == 0; }

const PackedActivations* PackGroups(const float* x, int m, int cols, Bf16Parts parts, int* groups) {
  const int group_rows = MaxPackedTokens(parts);
  *groups = (m + group_rows - 1) / group_rows;
  thread_local std::vector<PackedActivations> packed;
  if (static_cast<int>(packed.size()) < *groups) packed.resize(*groups);
  for (int g = 0; g < *groups; ++g) {
    const int t0 = g * group_rows;
    Pack(x + static_cast<size_t>(t0) * cols, std::min(group_rows, m - t0), cols, &packed[g], parts);
  }
  return packed.data();
}

void Pack(const float* x, int m, int cols, PackedActivations* out, Bf16Parts parts) {
  out->tokens = m;
  out->cols = cols;
  out->has_lo = parts == Bf16Parts::kHiAndLo;
  out->groups = ((out->has_lo ? 2 * m : m) + 15) / 16;
  out->data.assign(static_cast<size_t>(out->groups) * cols * 16, 0);
  // Columns of x outermost: the 32 x columns of a step land in the same 16 (32) cache
  // lines for every token, which stay in L1 (token by token, a 16-token pack strode over
  // 180 KB per token).
  const bool avx512 = CpuHasAvx512();
  for (int c = 0; c < cols; c += kTileDepth) {
    const size_t at = static_cast<size_t>(c / 2) * 32;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<size_t>(t) * cols + c;
      uint16_t* hi = ColumnStart(out, t) + at;
      uint16_t* lo = out->has_lo ? ColumnStart(out, m + t) + at : nullptr;
      if (avx512) {
        PackStepAvx512(xt, hi, lo);
      } else {
        PackStepPortable(xt, hi, lo);
      }
    }
  }
}

int64_t Rows(const Bf16Matrix& w, const PackedActivations& x, const float* bias, float* y, int64_t row_begin,
             int64_t row_end) {
  return RowsAmx(w.data + row_begin * w.cols, w.cols, w.rows, x, bias, y, row_begin, row_end);
}

void RowsFilled(int64_t total_rows, int cols, const PackedActivations& x, const float* bias, float* y,
                int64_t row_begin, int64_t row_end, const ChunkFill& fill) {
  RowsFilledAmx(total_rows, cols, x, bias, y, row_begin, row_end, fill);
}

int64_t RowsFromBuffer(const uint16_t* w_rows, int64_t total_rows, int cols, const PackedActivations& x,
                       const float* bias, float* y, int64_t row_begin, int64_t row_end) {
  return RowsAmx(w_rows, cols, total_rows, x, bias, y, row_begin, row_end);
}

}  // namespace warden::model::amx_dense
