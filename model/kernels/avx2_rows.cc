#include "model/kernels/avx2_rows.h"

#include <immintrin.h>

#include <algorithm>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/avx2_lanes.h"
#include "model/kernels/mxfp4_format.h"

namespace warden::model::avx2_rows {
namespace {

using avx2_lanes::SumLanes;

// Rows of W as the tile kernel reads them, 16 columns at a time as two vectors of eight
// floats in the pair layout (Bf16PairLayout): Even() the block's even columns, Odd() its odd
// ones. Bf16RowsOfW reads the matrix itself: one 32-byte load holds eight pairs of bf16, the
// even one in each 32-bit lane's low half, so a shift gives the even columns as float32 and a
// mask the odd ones (half the widening work of zero-extending eight at a time).
// FloatRowsOfW reads a thread's buffer already in that order (32-byte aligned rows).
struct Bf16RowsOfW {
  const uint16_t* w;
  int64_t ldw;
  WARDEN_AVX2 __m256i Raw(int j, int64_t c) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * ldw + c));
  }
  WARDEN_AVX2 __m256 Even(int j, int64_t c) const { return _mm256_castsi256_ps(_mm256_slli_epi32(Raw(j, c), 16)); }
  WARDEN_AVX2 __m256 Odd(int j, int64_t c) const {
    return _mm256_castsi256_ps(_mm256_and_si256(Raw(j, c), _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  float At(int j, int64_t c) const { return Bf16ToFloat(w[j * ldw + c]); }
  // Asks for the same columns of the row kPrefetchRows below row j, so that streaming W from
  // memory overlaps the FMAs of few rows of x rather than following them (prefetches never
  // fault, past the matrix's end included).
  WARDEN_AVX2 void Prefetch(int j, int64_t c) const {
    // The address in integers: past the matrix, a pointer would be formed out of bounds.
    const uintptr_t address = reinterpret_cast<uintptr_t>(w) + sizeof(uint16_t) * ((j + kPrefetchRows) * ldw + c);
    _mm_prefetch(reinterpret_cast<const char*>(address), _MM_HINT_T0);
  }
  static constexpr int kPrefetchRows = 4;
  static constexpr bool kPrefetches = true;
};
struct FloatRowsOfW {
  const float* w;
  int64_t ldw;
  WARDEN_AVX2 __m256 Even(int j, int64_t c) const { return _mm256_load_ps(w + j * ldw + c); }
  WARDEN_AVX2 __m256 Odd(int j, int64_t c) const { return _mm256_load_ps(w + j * ldw + c + 8); }
  float At(int j, int64_t c) const { return w[j * ldw + c]; }
  void Prefetch(int, int64_t) const {}
  static constexpr bool kPrefetches = false;
};

// out[i * ldo + j] = W[j] . x[i] for kW rows of W and kX rows of x (x in the pair layout):
// one accumulator per pair, so each load of W serves kX rows and each load of x kW rows
// (at 4 x 3: 12 accumulators, three rows of x and one of W fill the 16 vector registers).
// Every pair's sum runs in one order whatever kW, kX and the caller's m are (per lane: the
// even then the odd column of each 16 in turn; then the lanes; then the columns past the
// last whole 16 in order), so a row of x gets the same bits alone or beside others,
// decoding or prefilling: the engine's sequences must not depend on what shares their step.
//
// TileDot runs over the columns [c0, c1) (multiples of 16) only, its accumulators starting
// from zero at c0 == 0 and else from `saved` (kX * kW vectors); when `finish`, it then adds
// the lanes and the columns [c1, cols) and writes out, else it keeps the accumulators in
// `saved` for the next slice of columns: slices keep each pair's order, so its bits.
template <int kX, int kW, typename RowsOfW>
WARDEN_AVX2 void TileDot(const RowsOfW& w, const float* x, int64_t ldx, int64_t c0, int64_t c1, int64_t cols,
                         __m256* saved, bool finish, float* out, int64_t ldo) {
  __m256 acc[kX][kW];
#pragma GCC unroll 4
  for (int i = 0; i < kX; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < kW; ++j) acc[i][j] = c0 == 0 ? _mm256_setzero_ps() : saved[i * kW + j];
  }
  for (int64_t c = c0; c < c1; c += 16) {
    __m256 xv[kX];
#pragma GCC unroll 4
    for (int i = 0; i < kX; ++i) xv[i] = _mm256_loadu_ps(x + i * ldx + c);
#pragma GCC unroll 4
    for (int j = 0; j < kW; ++j) {
      const __m256 wv = w.Even(j, c);
#pragma GCC unroll 4
      for (int i = 0; i < kX; ++i) acc[i][j] = _mm256_fmadd_ps(wv, xv[i], acc[i][j]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < kX; ++i) xv[i] = _mm256_loadu_ps(x + i * ldx + c + 8);
    if constexpr (RowsOfW::kPrefetches) {
#pragma GCC unroll 4
      for (int j = 0; j < kW; ++j) w.Prefetch(j, c);
    }
#pragma GCC unroll 4
    for (int j = 0; j < kW; ++j) {
      const __m256 wv = w.Odd(j, c);
#pragma GCC unroll 4
      for (int i = 0; i < kX; ++i) acc[i][j] = _mm256_fmadd_ps(wv, xv[i], acc[i][j]);
    }
  }
  if (!finish) {
#pragma GCC unroll 4
    for (int i = 0; i < kX; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < kW; ++j) saved[i * kW + j] = acc[i][j];
    }
    return;
  }
  for (int i = 0; i < kX; ++i) {
    for (int j = 0; j < kW; ++j) {
      float sum = SumLanes(acc[i][j]);
      for (int64_t cc = c1; cc < cols; ++cc) sum += w.At(j, cc) * x[i * ldx + cc];
      out[i * ldo + j] = sum;
    }
  }
}

// Rows of W per tile (see TileDot).
constexpr int kTileW = 4;

// TileDot for kX = rows_of_x (1-3) and kW = rows_of_w (1-kTileW).
template <typename RowsOfW>
WARDEN_AVX2 void TileDotAny(int rows_of_x, int rows_of_w, const RowsOfW& w, const float* x, int64_t ldx, int64_t c0,
                            int64_t c1, int64_t cols, __m256* saved, bool finish, float* out, int64_t ldo) {
  using Kernel = void (*)(const RowsOfW&, const float*, int64_t, int64_t, int64_t, int64_t, __m256*, bool, float*,
                          int64_t);
  static constexpr Kernel kKernels[3][kTileW] = {
      {TileDot<1, 1, RowsOfW>, TileDot<1, 2, RowsOfW>, TileDot<1, 3, RowsOfW>, TileDot<1, 4, RowsOfW>},
      {TileDot<2, 1, RowsOfW>, TileDot<2, 2, RowsOfW>, TileDot<2, 3, RowsOfW>, TileDot<2, 4, RowsOfW>},
      {TileDot<3, 1, RowsOfW>, TileDot<3, 2, RowsOfW>, TileDot<3, 3, RowsOfW>, TileDot<3, 4, RowsOfW>}};
  kKernels[rows_of_x - 1][rows_of_w - 1](w, x, ldx, c0, c1, cols, saved, finish, out, ldo);
}

// Rows of x per block: 36 x 2880 floats (405 KiB) stay in a core's L2 while the tiles of
// W pass over them.
constexpr int kTiledRowsOfX = 36;

// Columns per slice for few rows of x.
constexpr int64_t kSliceCols = 512;

// Groups of three rows of x in the largest block TiledRows is given (kTiledRowsOfX, or fewer
// than kTiledMinRows): the accumulators it keeps between slices.
constexpr int kMaxGroupsOfX = (std::max(kTiledRowsOfX, kTiledMinRows - 1) + 2) / 3;

// y[t * w_rows + r] = W[r] . x[t] + bias[r] for rows [row_begin, row_end) of W and all m rows
// of x: for each block of rows_of_x_per_block (<= 3 * kMaxGroupsOfX) rows of x, each tile of W (tile_of_w(r, n)
// gives rows r .. r + n - 1, n <= kTileW, as a RowsOfW) against three rows of x at a time,
// over slices of slice_cols columns (a multiple of 16) so that a slice of the tile and of the
// block's rows of x stay in L1 while each is read several times. A tile is read from memory
// for the block's first rows of x, then from L1.
template <typename TileOfW>
WARDEN_AVX2 void TiledRows(int64_t w_rows, int64_t cols, const float* x, int m, const float* bias, float* y,
                           int64_t row_begin, int64_t row_end, int rows_of_x_per_block, int64_t slice_cols,
                           const TileOfW& tile_of_w) {
  float out[3 * kTileW];
  alignas(32) __m256 saved[kMaxGroupsOfX][3 * kTileW];
  const int64_t whole = cols / 16 * 16;
  for (int t0 = 0; t0 < m; t0 += rows_of_x_per_block) {
    const int t1 = std::min(m, t0 + rows_of_x_per_block);
    for (int64_t r = row_begin; r < row_end; r += kTileW) {
      const int n = static_cast<int>(std::min<int64_t>(kTileW, row_end - r));
      const auto w = tile_of_w(r, n);
      int64_t c0 = 0;
      do {
        const int64_t c1 = std::min(whole, c0 + slice_cols);
        const bool finish = c1 == whole;
        for (int t = t0, g = 0; t < t1; ++g) {
          const int rows_of_x = std::min(3, t1 - t);
          TileDotAny(rows_of_x, n, w, x + static_cast<size_t>(t) * cols, cols, c0, c1, cols, saved[g], finish, out,
                     kTileW);
          if (finish) {
            for (int i = 0; i < rows_of_x; ++i) {
              for (int j = 0; j < n; ++j) {
                y[static_cast<size_t>(t + i) * w_rows + r + j] =
                    out[i * kTileW + j] + (bias != nullptr ? bias[r + j] : 0.0f);
              }
            }
          }
          t += rows_of_x;
        }
        c0 = c1;
      } while (c0 < whole);
    }
  }
}

// The calling thread's buffer for kTileW rows of W as float32, each padded to whole vectors.
float* TileBuffer(int64_t ldw) {
  thread_local AlignedVector<float> tile;
  tile.resize(static_cast<size_t>(kTileW * ldw));
  return tile.data();
}

}  // namespace

void Bf16PairLayout(const float* x, int m, int cols, float* out) {
  for (int64_t t = 0; t < m; ++t) {
    const float* src = x + t * cols;
    float* dst = out + t * cols;
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
      for (int l = 0; l < 8; ++l) {
        dst[c + l] = src[c + 2 * l];
        dst[c + 8 + l] = src[c + 2 * l + 1];
      }
    }
    for (; c < cols; ++c) dst[c] = src[c];
  }
}

WARDEN_AVX2 void Bf16Rows(const Bf16Matrix& w, const float* x, int m, const float* bias, float* y, int64_t row_begin,
                          int64_t row_end) {
  // W is widened in registers as it is read. Many rows of x (a prefill): blocks of
  // kTiledRowsOfX of them in L2, each tile's whole rows at once (four rows of bf16: 22.5 KiB
  // at 2880 columns, in L1 while the block's rows pass; the float32 copy the tile was once
  // widened into per block took 45 KiB, beyond L1, and a pass of its own). Few rows (decode):
  // slices of 512 columns (four rows of W: 4 KiB, 31 rows of x: 62 KiB). Either way each
  // pair's sum runs in TileDot's one order.
  const bool prefill = m >= kTiledMinRows;
  TiledRows(w.rows, w.cols, x, m, bias, y, row_begin, row_end, prefill ? kTiledRowsOfX : kTiledMinRows,
            prefill ? w.cols : kSliceCols,
            [&w](int64_t r, int) { return Bf16RowsOfW{w.data + r * w.cols, w.cols}; });
}

namespace {

// For every exponent byte s, the bf16 patterns of mxfp4::ScaledValueTables()'s 16 values
// (exact: each is e2m1 * 2^(s - 127), whose float32 low half is zero, subnormals included,
// so FloatToBf16 only drops that half; NaN stays NaN)
// as two 16-byte vpshufb tables, low bytes then high bytes: 8 KiB, in L1 while a row runs.
struct ScaledBf16Bytes {
  alignas(32) uint8_t table[256][2][16];
};

const ScaledBf16Bytes& Bf16ByteTables() {
  static const ScaledBf16Bytes* const tables = [] {
    auto* made = new ScaledBf16Bytes;
    const float* values = mxfp4::ScaledValueTables();
    for (int s = 0; s < 256; ++s) {
      for (int n = 0; n < 16; ++n) {
        const uint16_t pattern = FloatToBf16(values[16 * s + n]);
        made->table[s][0][n] = static_cast<uint8_t>(pattern & 0xFF);
        made->table[s][1][n] = static_cast<uint8_t>(pattern >> 8);
      }
    }
    return made;
  }();
  return *tables;
}

// One block's 32 values, scaled, as four vectors of eight floats (w0-w3) in the order
// Mxfp4Layout gives x (see LayoutElement): both 128-bit lanes hold the block's 16 bytes,
// the first lane keeps their low nibbles (even elements), the second their high ones (odd);
// two vpshufb give each nibble's bf16 low and high byte, and interleaving them gives words,
// which become floats by a shift (even words) or a mask (odd words). Written with named
// vectors rather than arrays: GCC kept arrays of vectors on the stack.
#define WARDEN_DECODE_BLOCK(bytes, tables, w0, w1, w2, w3)                                                   \
  do {                                                                                                       \
    const __m256i both_ = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes))); \
    const __m256i nibbles_ = _mm256_and_si256(_mm256_srlv_epi32(both_, nibble_shift), low_nibble);           \
    const __m256i low_ = _mm256_shuffle_epi8(                                                                \
        _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>((tables)[0]))), nibbles_); \
    const __m256i high_ = _mm256_shuffle_epi8(                                                               \
        _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>((tables)[1]))), nibbles_); \
    const __m256i first_ = _mm256_unpacklo_epi8(low_, high_);  /* words of bytes 0-7's nibbles */            \
    const __m256i second_ = _mm256_unpackhi_epi8(low_, high_); /* bytes 8-15's */                            \
    w0 = _mm256_castsi256_ps(_mm256_slli_epi32(first_, 16));                                                 \
    w1 = _mm256_castsi256_ps(_mm256_and_si256(first_, upper_word));                                         \
    w2 = _mm256_castsi256_ps(_mm256_slli_epi32(second_, 16));                                                \
    w3 = _mm256_castsi256_ps(_mm256_and_si256(second_, upper_word));                                        \
  } while (0)

// The constants WARDEN_DECODE_BLOCK reads, declared where it is used.
#define WARDEN_DECODE_CONSTANTS                                                    \
  const __m256i nibble_shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);          \
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);                               \
  const __m256i upper_word = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))

// A row's sum: four accumulators, a block's k-th vector into the k-th, blocks in order, then
// (a0 + a1) + (a2 + a3) over the lanes. Every path below keeps exactly this order, so a row
// of x gets the same bits alone or beside others.
WARDEN_AVX2 inline float Finish(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  return SumLanes(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

// One row of W against kRows (1 or 2) rows of x (ldx apart), decoding as it goes (decode:
// no copy of the row; two rows of x still fit the registers with their eight accumulators).
// Measured and dropped: two rows of W at a time for more independent FMA chains (one
// thread, 5760 x 2880 from L3: 2.9 against 6.4-7.5 GB/s).
template <int kRows>
WARDEN_AVX2 void DotDecoding(const uint8_t* blocks, const uint8_t* exponents, int nblocks, const float* xs,
                             int64_t ldx, const ScaledBf16Bytes& tables, float* out) {
  WARDEN_DECODE_CONSTANTS;
  __m256 a0[kRows], a1[kRows], a2[kRows], a3[kRows];
  for (int i = 0; i < kRows; ++i) a0[i] = a1[i] = a2[i] = a3[i] = _mm256_setzero_ps();
  for (int b = 0; b < nblocks; ++b) {
    __m256 w0, w1, w2, w3;
    WARDEN_DECODE_BLOCK(blocks + b * mxfp4::kBlockBytes, tables.table[exponents[b]], w0, w1, w2, w3);
#pragma GCC unroll 2
    for (int i = 0; i < kRows; ++i) {
      const float* xb = xs + i * ldx + b * mxfp4::kBlock;
      a0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xb), a0[i]);
      a1[i] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + 8), a1[i]);
      a2[i] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xb + 16), a2[i]);
      a3[i] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + 24), a3[i]);
    }
  }
  for (int i = 0; i < kRows; ++i) out[i] = Finish(a0[i], a1[i], a2[i], a3[i]);
}

WARDEN_AVX2 void DecodeRow(const uint8_t* blocks, const uint8_t* exponents, int nblocks, const ScaledBf16Bytes& tables,
                           float* out) {
  WARDEN_DECODE_CONSTANTS;
  for (int b = 0; b < nblocks; ++b) {
    __m256 w0, w1, w2, w3;
    WARDEN_DECODE_BLOCK(blocks + b * mxfp4::kBlockBytes, tables.table[exponents[b]], w0, w1, w2, w3);
    float* ob = out + b * mxfp4::kBlock;
    _mm256_store_ps(ob, w0);
    _mm256_store_ps(ob + 8, w1);
    _mm256_store_ps(ob + 16, w2);
    _mm256_store_ps(ob + 24, w3);
  }
}

#undef WARDEN_DECODE_CONSTANTS
#undef WARDEN_DECODE_BLOCK

// Element of a block that position p of the layout holds (DecodeBlock's order): vectors
// 0-3 are elements {4i, 4i+1}, {4i+2, 4i+3}, {16+4i, 16+4i+1}, {16+4i+2, 16+4i+3} for
// i = 0..3, the first four lanes the even element, the last four the odd one.
constexpr int LayoutElement(int p) {
  return (p / 16) * 16 + ((p / 8) % 2) * 2 + (p % 8) / 4 + 4 * (p % 4);
}

}  // namespace

void Mxfp4Layout(const float* x, int m, int cols, float* out) {
  for (int64_t t = 0; t < m; ++t) {
    for (int c = 0; c < cols; c += mxfp4::kBlock) {
      const float* src = x + t * cols + c;
      float* dst = out + t * cols + c;
      for (int p = 0; p < mxfp4::kBlock; ++p) dst[p] = src[LayoutElement(p)];
    }
  }
}

WARDEN_AVX2 void Mxfp4Rows(const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y,
                           int64_t row_begin, int64_t row_end) {
  const int nblocks = w.cols / mxfp4::kBlock;
  const ScaledBf16Bytes& tables = Bf16ByteTables();
  const int64_t cols = w.cols;
  if (m >= kTiledMinRows) {
    const int64_t ldw = cols;  // a whole number of blocks, so of vectors
    float* tile = TileBuffer(ldw);
    TiledRows(w.rows, cols, xs, m, bias, y, row_begin, row_end, kTiledRowsOfX, cols, [&](int64_t r, int n) {
      for (int j = 0; j < n; ++j) {
        DecodeRow(w.blocks + (r + j) * nblocks * mxfp4::kBlockBytes, w.scales + (r + j) * nblocks, nblocks, tables,
                  tile + j * ldw);
      }
      return FloatRowsOfW{tile, ldw};
    });
    return;
  }
  // Fewer rows of x (decode, a batch's tokens on one expert): the row of W is decoded again
  // for every two rows of x, from L1 after the first. Measured against decoding it once into
  // L1 and reading it there for three rows of x at a time (whose rows of x then come from
  // L2), 5760 x 2880 from memory, two threads: 3 rows 2.9 -> 1.8 ms, 8 rows 6.1 -> 4.2, 16
  // rows 12.7 -> 8.4. Also measured and dropped: three rows of x in one pass for an odd
  // count's last three (DotDecoding<3>, twelve accumulators; same bits), 3 rows alternating
  // 3.6-4.9 GB/s before against 3.4-5.0 after: no gain beyond this machine's noise.
  auto store = [&](int t, int64_t r, float sum) {
    y[static_cast<size_t>(t) * w.rows + r] = sum + (bias != nullptr ? bias[r] : 0.0f);
  };
  float sums[2];
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* blocks = w.blocks + r * nblocks * mxfp4::kBlockBytes;
    const uint8_t* exponents = w.scales + r * nblocks;
    for (int t = 0; t < m; t += 2) {
      if (t + 1 == m) {
        DotDecoding<1>(blocks, exponents, nblocks, xs + t * cols, cols, tables, sums);
        store(t, r, sums[0]);
      } else {
        DotDecoding<2>(blocks, exponents, nblocks, xs + t * cols, cols, tables, sums);
        store(t, r, sums[0]);
        store(t + 1, r, sums[1]);
      }
    }
  }
}

namespace {

using int8_dense_tiles::kChunkValues;
constexpr int kInt8VectorsPerChunk = kChunkValues / 16;
static_assert(kChunkValues % 16 == 0, "a chunk is whole vectors of 16 int16 values");

WARDEN_AVX2 inline int32_t SumInt32Lanes(__m256i lanes) {
  __m128i half = _mm_add_epi32(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256(lanes, 1));
  half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4E));
  half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0xB1));
  return _mm_cvtsi128_si32(half);
}

// The exact sum over a whole chunk of its weights, widened to int16 in `w`, times x's
// values: 16 per pmaddwd, pairs into int32 lanes, four independent sums (exact: each of a
// chunk's 128 terms is at most 127 * 32767 in size, so every partial sum stays below 2^31,
// as int8_dense_tiles.h states, and any order gives the same integer).
WARDEN_AVX2 inline int32_t WholeChunkSum(const __m256i* w, const int16_t* x) {
  __m256i sums[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    sums[i] = _mm256_madd_epi16(w[i], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16 * i)));
  }
#pragma GCC unroll 4
  for (int i = 4; i < kInt8VectorsPerChunk; ++i) {
    sums[i % 4] = _mm256_add_epi32(
        sums[i % 4], _mm256_madd_epi16(w[i], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16 * i))));
  }
  return SumInt32Lanes(_mm256_add_epi32(_mm256_add_epi32(sums[0], sums[1]), _mm256_add_epi32(sums[2], sums[3])));
}

// The same for columns [c, c1) of a chunk shorter than kChunkValues (a row's last).
WARDEN_AVX2 int32_t PartialChunkSum(const int8_t* row, const int16_t* x, int c, int c1) {
  __m256i lanes = _mm256_setzero_si256();
  for (; c + 16 <= c1; c += 16) {
    const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c)));
    lanes = _mm256_add_epi32(lanes, _mm256_madd_epi16(wv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c))));
  }
  int32_t sum = SumInt32Lanes(lanes);
  for (; c < c1; ++c) sum += row[c] * x[c];
  return sum;
}

// Tokens whose folded sums a row keeps at once: a whole chunk of the row is widened once for
// all of them (it was once per token). Measured and dropped: blocks of 32 rows reading the
// tokens' values in column slices that stay in L1 (slower than reading them from L2).
constexpr int kInt8TokensPerPass = 16;

}  // namespace

// Each (row, token) folds its chunks in column order, as RowsPortable.
WARDEN_AVX2 void Int8Rows(const Int8Matrix& w, const int8_dense_tiles::Int16Activations& x, const float* bias,
                          float* y, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int8_t* row = w.data.data() + r * w.cols;
    for (int t0 = 0; t0 < x.tokens; t0 += kInt8TokensPerPass) {
      const int tokens = std::min(kInt8TokensPerPass, x.tokens - t0);
      float acc[kInt8TokensPerPass] = {};
      for (int k = 0; k < x.chunks; ++k) {
        const int c0 = k * kChunkValues, c1 = std::min(c0 + kChunkValues, w.cols);
        const float* steps = x.steps.data() + static_cast<size_t>(t0) * x.chunks + k;
        const int16_t* values = x.values.data() + static_cast<size_t>(t0) * x.padded_cols;
        if (c1 - c0 == kChunkValues) {
          __m256i wv[kInt8VectorsPerChunk];
#pragma GCC unroll 8
          for (int i = 0; i < kInt8VectorsPerChunk; ++i) {
            wv[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c0 + 16 * i)));
          }
          for (int t = 0; t < tokens; ++t) {
            const int32_t sum = WholeChunkSum(wv, values + static_cast<size_t>(t) * x.padded_cols + c0);
            acc[t] = int8_dense_tiles::FoldChunk(acc[t], sum, steps[static_cast<size_t>(t) * x.chunks]);
          }
        } else {
          for (int t = 0; t < tokens; ++t) {
            const int32_t sum = PartialChunkSum(row, values + static_cast<size_t>(t) * x.padded_cols, c0, c1);
            acc[t] = int8_dense_tiles::FoldChunk(acc[t], sum, steps[static_cast<size_t>(t) * x.chunks]);
          }
        }
      }
      for (int t = 0; t < tokens; ++t) {
        y[static_cast<size_t>(t0 + t) * w.rows + r] = int8_dense_tiles::Finish(acc[t], w.scales[r], bias ? bias[r] : 0.0f);
      }
    }
  }
}

#undef WARDEN_AVX2

}  // namespace warden::model::avx2_rows
