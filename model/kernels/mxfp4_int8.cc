#include "model/kernels/mxfp4_int8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "model/kernels/avx2_lanes.h"
#include "model/kernels/mxfp4_format.h"
#include "model/kernels/row_kernels.h"

namespace warden::model::mxfp4_int8 {
namespace {

using mxfp4::kBlock;
using mxfp4::kBlockBytes;

constexpr int kHalf = kBlockBytes;  // even (or odd) values per block
static_assert(kHalf == activation_record::kHalfBlock, "one MXFP4 byte holds an even and an odd value");
constexpr int kPrefetchBytes = 6144;  // see RowTile
// Twice each e2m1 value, by nibble: integers in [-12, 12].
constexpr int8_t kTwiceFp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
// vpshufb's lookup table (broadcast to every 128-bit lane): 2w + kWeightBias by nibble,
// vpdpbusd's unsigned weights.
struct WeightTableBytes {
  alignas(16) int8_t bytes[16];
};
constexpr WeightTableBytes MakeWeightTable() {
  WeightTableBytes table{};
  for (int i = 0; i < 16; ++i) table.bytes[i] = static_cast<int8_t>(kTwiceFp4[i] + kWeightBias);
  return table;
}
constexpr WeightTableBytes kWeightTable = MakeWeightTable();

using namespace activation_record;  // NOLINT: the record layout's constants

float WeightScale(uint8_t exponent) { return exponent == 0 ? 0.0f : mxfp4::ScaleTable()[exponent]; }

// Runs tile(n, blocks, exponents, nblocks, token0, sums) for every row in [row_begin,
// row_end) and every tile of at most kMaxTileTokens tokens (n: the tile's token count as an
// integral_constant, for the kernels' RowTile templates), then adds the bias into y.
template <typename Tile>
void ForEachRowTile(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
                    int64_t row_begin, int64_t row_end, Tile&& tile) {
  const int nblocks = w.cols / kBlock;
  row_kernels::ForRowTiles(row_begin, row_end, w.rows, x.tokens, 1, nullptr, bias, y,
                           [&](int64_t r, int /*row_count: 1*/, int t0, int tokens, float* sums) {
                             const uint8_t* blocks = w.blocks + r * nblocks * kBlockBytes;
                             const uint8_t* exponents = w.scales + r * nblocks;
                             row_kernels::WithTokenCount(
                                 tokens, [&](auto n) { tile(n, blocks, exponents, nblocks, t0, sums); });
                           });
}

// ---- VNNI kernel -------------------------------------------------------------------

#define WARDEN_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

// The weights of one chunk of one row, as vpdpbusd's unsigned operands, and their scales.
struct ChunkWeights {
  __m512i low, high;  // 2w + 12 of the even / odd values of 4 blocks
  __m512 scale;       // 2^(e - 127) per lane (lane / 4 = block)
};

WARDEN_VNNI_TARGET inline ChunkWeights LoadChunk(const uint8_t* blocks, const uint8_t* exponents, int nblocks,
                                                 __m512i table) {
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  __m512i packed;
  uint32_t exps = 0;
  if (nblocks == kChunkBlocks) {
    packed = _mm512_loadu_si512(blocks);
    std::memcpy(&exps, exponents, sizeof(exps));
  } else {
    packed = _mm512_maskz_loadu_epi8((__mmask64{1} << (nblocks * kBlockBytes)) - 1, blocks);
    std::memcpy(&exps, exponents, static_cast<size_t>(nblocks));
  }
  ChunkWeights w;
  w.low = _mm512_shuffle_epi8(table, _mm512_and_si512(packed, nibble));
  w.high = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble));
  // Byte b of the exponents to the top byte of every lane of 128-bit lane b, then >> 1:
  // e << 23 is the float 2^(e - 127) (e = 0 gives 0, e = 255 infinity).
  const __m512i spread = _mm512_set_epi32(0x03808080, 0x03808080, 0x03808080, 0x03808080, 0x02808080, 0x02808080,
                                          0x02808080, 0x02808080, 0x01808080, 0x01808080, 0x01808080, 0x01808080,
                                          0x00808080, 0x00808080, 0x00808080, 0x00808080);
  w.scale = _mm512_castsi512_ps(
      _mm512_maskz_srli_epi32(row_kernels::kAllLanes,
                              _mm512_shuffle_epi8(_mm512_set1_epi32(static_cast<int>(exps)), spread), 1));
  return w;
}

// The chunk's integer dot products with one token (with the correction), times the
// token's lane scales; the weights' scales are the caller's (shared by all tokens).
WARDEN_VNNI_TARGET inline __m512 ChunkProduct(const ChunkWeights& w, const uint8_t* record) {
  const __m512i correction = _mm512_loadu_si512(record + kCorrectionOffset);
  const __m512i even = _mm512_dpbusd_epi32(correction, w.low, _mm512_loadu_si512(record + kEvenOffset));
  const __m512i sum = _mm512_dpbusd_epi32(even, w.high, _mm512_loadu_si512(record + kOddOffset));
  const __m512 lane_scale = _mm512_loadu_ps(record + kLaneScaleOffset);
  return _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(row_kernels::kAllLanes, sum), lane_scale);
}

// One chunk of one row against kTokens tokens, added to acc. `records` is the first
// token's record of this chunk; tokens are `token_stride` bytes apart.
template <int kTokens>
WARDEN_VNNI_TARGET inline void AddChunk(const uint8_t* blocks, const uint8_t* exponents, int chunk_blocks,
                                        const uint8_t* records, size_t token_stride, __m512i table,
                                        __m512 (&acc)[kTokens]) {
  _mm_prefetch(reinterpret_cast<const char*>(blocks + kPrefetchBytes), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(blocks + row_kernels::kFarPrefetchBytes), _MM_HINT_T2);
  const ChunkWeights w = LoadChunk(blocks, exponents, chunk_blocks, table);
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    acc[t] = _mm512_fmadd_ps(ChunkProduct(w, records + t * token_stride), w.scale, acc[t]);
  }
}

// One row against kTokens tokens; sums[token]. The count is a template parameter, and the
// full chunks are a loop of their own (the partial last one apart), so that the
// accumulators stay in registers.
// One row at a time, not two as the float32 kernel and the dense kernels take them: from
// DRAM (kernels_bench BM_Mxfp4DecodeFromMemory, 2 threads, 5760 x 2880, alternating runs)
// one token streams 28.4-29.4 GB/s against 25.3-26.6 with row pairs, two tokens 23.4-24.1
// against 20.8-21.1; the full 20b shape's `fast` decode went 8.99 / 9.18 -> 9.55 / 9.78
// tokens/s. (The bf16 and int8 dense kernels measured the other way: pairs are faster.)
// With one row, prefetching 6 KB ahead rather than 12 gained another ~1 GB/s (29.1-30.2
// against 28.2-29.0, one token) and, in three-way alternating runs of the full shape's
// `fast` decode, row pairs at 12 KB 7.58 / 7.80, one row 7.73 / 8.43, one row at 6 KB
// 8.16 / 8.63 tokens/s (a slower hour of this host: probe 27.8-28.7 GB/s). The float32
// kernel measured no difference in the model between 6 and 12 KB, so it keeps 12.
// The vector registers' lookup table is loaded here, per row, from kWeightTable (one
// broadcast), not made by the caller and passed in: a 512-bit value live across the caller's
// (non-AVX) row loop made GCC 12 leave out the caller's vzeroupper, and returning with the
// upper halves of the vector registers in use made the SSE code run next ~20-40x slower
// (SwiGlu's scalar loop after each expert product: the full 20b shape's `fast` decode fell
// from ~9.6 to ~6.2 tokens/s between sessions 15 and 16). tests/model/upper_state_test.cc
// checks every kernel entry point for this.
template <int kTokens>
WARDEN_VNNI_TARGET void RowTile(const uint8_t* blocks, const uint8_t* exponents, int nblocks,
                                const QuantizedActivations& x, int token0, float* sums) {
  const __m512i table = _mm512_maskz_broadcast_i32x4(
      row_kernels::kAllLanes, _mm_load_si128(reinterpret_cast<const __m128i*>(kWeightTable.bytes)));
  constexpr size_t record_bytes = kRecordBytes;
  const size_t token_stride = static_cast<size_t>(x.chunks) * record_bytes;
  const uint8_t* records = x.Record(token0, 0);
  __m512 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm512_setzero_ps();
  const int full_chunks = nblocks / kChunkBlocks;
  constexpr size_t kChunkBytes = kChunkBlocks * kBlockBytes;
  for (int c = 0; c < full_chunks; ++c) {
    AddChunk<kTokens>(blocks + c * kChunkBytes, exponents + c * kChunkBlocks, kChunkBlocks, records + c * record_bytes,
                      token_stride, table, acc);
  }
  if (full_chunks < x.chunks) {
    AddChunk<kTokens>(blocks + full_chunks * kChunkBytes, exponents + full_chunks * kChunkBlocks,
                      nblocks - full_chunks * kChunkBlocks, records + full_chunks * record_bytes, token_stride, table,
                      acc);
  }
  for (int t = 0; t < kTokens; ++t) sums[t] = row_kernels::SumLanes(acc[t]);
}

// ---- AVX2 kernel -------------------------------------------------------------------
//
// AVX2 has no vpdpbusd: vpmaddubsw multiplies the same unsigned weights (2w + 12 in [0, 24])
// by the signed activations and adds neighbouring products into int16 (at most 2 * 24 * 127
// = 6096 in size; the even and the odd values' sums together at most 12192, so nothing
// saturates), and vpmaddwd by ones adds neighbouring int16 into the int32 lanes vpdpbusd
// fills: lane k covers bytes 4k .. 4k + 3, the records' lane layout. A chunk of 4 blocks
// is taken as two halves of 2 blocks (32 weight bytes, 8 lanes). Each token's sums run in
// the same order whatever the tile's token count, so a token gets the same bits alone or in
// a batch.

// The weights of half a chunk of one row and their scales (lanes 0-3: the half's first
// block, 4-7: its second).
struct HalfChunkWeights {
  __m256i low, high;  // 2w + 12 of the even / odd values of 2 blocks
  __m256 scale;       // 2^(e - 127) per lane
};

// kHalf 0 or 1; `blocks` points at the half's first block, which has `count` (1 or 2)
// blocks; `exponents` holds the chunk's scale bytes (0 past the last block).
template <int kHalf>
WARDEN_AVX2 inline HalfChunkWeights LoadHalfChunk(const uint8_t* blocks, uint32_t exponents, int count,
                                                  __m256i table) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  // One block: only its 16 bytes are read (the row, or the matrix, may end there); the
  // zero upper half's weights meet zero activations.
  const __m256i packed =
      count == 2 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks))
                 : _mm256_inserti128_si256(_mm256_setzero_si256(),
                                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks)), 0);
  HalfChunkWeights w;
  w.low = _mm256_shuffle_epi8(table, _mm256_and_si256(packed, nibble));
  w.high = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble));
  // Exponent byte 2 * kHalf (2 * kHalf + 1) to the top byte of lanes 0-3 (4-7), then >> 1:
  // e << 23 is the float 2^(e - 127) (e = 0 gives 0, e = 255 infinity).
  constexpr int kFirst = (2 * kHalf) << 24 | 0x808080, kSecond = (2 * kHalf + 1) << 24 | 0x808080;
  const __m256i spread = _mm256_setr_epi32(kFirst, kFirst, kFirst, kFirst, kSecond, kSecond, kSecond, kSecond);
  w.scale = _mm256_castsi256_ps(
      _mm256_srli_epi32(_mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(exponents)), spread), 1));
  return w;
}

// The half chunk's integer dot products with one token (with the correction), times the
// token's lane scales; the weights' scales are the caller's (shared by all tokens).
template <int kHalf>
WARDEN_AVX2 inline __m256 HalfChunkProduct(const HalfChunkWeights& w, const uint8_t* record) {
  constexpr size_t kAt = kHalf * 32;  // bytes into each part of the record
  const __m256i even =
      _mm256_maddubs_epi16(w.low, _mm256_load_si256(reinterpret_cast<const __m256i*>(record + kEvenOffset + kAt)));
  const __m256i odd =
      _mm256_maddubs_epi16(w.high, _mm256_load_si256(reinterpret_cast<const __m256i*>(record + kOddOffset + kAt)));
  const __m256i lanes = _mm256_madd_epi16(_mm256_add_epi16(even, odd), _mm256_set1_epi16(1));
  const __m256i sum = _mm256_add_epi32(
      lanes, _mm256_load_si256(reinterpret_cast<const __m256i*>(record + kCorrectionOffset + kAt)));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(sum),
                       _mm256_load_ps(reinterpret_cast<const float*>(record + kLaneScaleOffset + kAt)));
}

template <int kTokens, int kHalf>
WARDEN_AVX2 inline void AddHalfChunk(const uint8_t* blocks, uint32_t exponents, int count, const uint8_t* records,
                                     size_t token_stride, __m256i table, __m256 (&acc)[kTokens]) {
  const HalfChunkWeights w = LoadHalfChunk<kHalf>(blocks, exponents, count, table);
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    acc[t] = _mm256_fmadd_ps(HalfChunkProduct<kHalf>(w, records + t * token_stride), w.scale, acc[t]);
  }
}

// One chunk (`count` blocks, 1 to 4) of one row against kTokens tokens, added to acc.
template <int kTokens>
WARDEN_AVX2 inline void AddChunkAvx2(const uint8_t* blocks, const uint8_t* exponent_bytes, int count,
                                     const uint8_t* records, size_t token_stride, __m256i table,
                                     __m256 (&acc)[kTokens]) {
  uint32_t exponents = 0;
  std::memcpy(&exponents, exponent_bytes, static_cast<size_t>(count));
  AddHalfChunk<kTokens, 0>(blocks, exponents, std::min(count, 2), records, token_stride, table, acc);
  if (count > 2) {
    AddHalfChunk<kTokens, 1>(blocks + 2 * kBlockBytes, exponents, count - 2, records, token_stride, table, acc);
  }
}

// One row against kTokens tokens; sums[token]. As RowTile: the full chunks are a loop of
// their own, and the lookup table is loaded here (see RowTile on vzeroupper).
template <int kTokens>
WARDEN_AVX2 void RowTileAvx2(const uint8_t* blocks, const uint8_t* exponents, int nblocks,
                             const QuantizedActivations& x, int token0, float* sums) {
  const __m256i table = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kWeightTable.bytes)));
  const size_t token_stride = static_cast<size_t>(x.chunks) * kRecordBytes;
  const uint8_t* records = x.Record(token0, 0);
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  const int full_chunks = nblocks / kChunkBlocks;
  constexpr size_t kChunkBytes = kChunkBlocks * kBlockBytes;
  for (int c = 0; c < full_chunks; ++c) {
    AddChunkAvx2<kTokens>(blocks + c * kChunkBytes, exponents + c * kChunkBlocks, kChunkBlocks,
                          records + c * kRecordBytes, token_stride, table, acc);
  }
  if (full_chunks < x.chunks) {
    AddChunkAvx2<kTokens>(blocks + full_chunks * kChunkBytes, exponents + full_chunks * kChunkBlocks,
                          nblocks - full_chunks * kChunkBlocks, records + full_chunks * kRecordBytes, token_stride,
                          table, acc);
  }
  for (int t = 0; t < kTokens; ++t) sums[t] = avx2_lanes::SumLanes(acc[t]);
}

}  // namespace

void RowsPortable(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y,
                  int64_t row_begin, int64_t row_end) {
  const int nblocks = w.cols / kBlock;
  for (int64_t r = row_begin; r < row_end; ++r) {
    for (int t = 0; t < x.tokens; ++t) {
      float acc = 0.0f;
      for (int b = 0; b < nblocks; ++b) {
        const uint8_t* bytes = w.blocks + (r * nblocks + b) * kBlockBytes;
        const uint8_t* record = x.Record(t, b / kChunkBlocks);
        const int slot = (b % kChunkBlocks) * kHalf;
        const int8_t* even = reinterpret_cast<const int8_t*>(record + kEvenOffset) + slot;
        const int8_t* odd = reinterpret_cast<const int8_t*>(record + kOddOffset) + slot;
        int32_t sum = 0;
        for (int j = 0; j < kHalf; ++j) sum += kTwiceFp4[bytes[j] & 0xF] * even[j] + kTwiceFp4[bytes[j] >> 4] * odd[j];
        float lane_scale;
        std::memcpy(&lane_scale, record + kLaneScaleOffset + (b % kChunkBlocks) * 4 * sizeof(float),
                    sizeof(float));
        acc += static_cast<float>(sum) * (WeightScale(w.scales[r * nblocks + b]) * lane_scale);
      }
      y[static_cast<size_t>(t) * w.rows + r] = acc + (bias ? bias[r] : 0.0f);
    }
  }
}

void RowsVnni(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y, int64_t row_begin,
              int64_t row_end) {
  ForEachRowTile(w, x, bias, y, row_begin, row_end,
                 [&x](auto n, const uint8_t* blocks, const uint8_t* exponents, int nblocks, int t0, float* sums) {
                   RowTile<decltype(n)::value>(blocks, exponents, nblocks, x, t0, sums);
                 });
}

void RowsAvx2(const Mxfp4Matrix& w, const QuantizedActivations& x, const float* bias, float* y, int64_t row_begin,
              int64_t row_end) {
  ForEachRowTile(w, x, bias, y, row_begin, row_end,
                 [&x](auto n, const uint8_t* blocks, const uint8_t* exponents, int nblocks, int t0, float* sums) {
                   RowTileAvx2<decltype(n)::value>(blocks, exponents, nblocks, x, t0, sums);
                 });
}

}  // namespace warden::model::mxfp4_int8
