#include "model/kernels/expert_matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/amx_dense.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/mxfp4_format.h"
#include "model/kernels/row_kernels.h"
#include "model/kernels/split_matmul.h"
#include "model/kernels/dnnl_state.h"

namespace warden::model {
namespace {

using mxfp4::kBlock;
using mxfp4::kBlockBytes;
using mxfp4::kFp4Values;

using row_kernels::kAllLanes;

// From this many rows of x on, expanding W once and using oneDNN beats the packed kernel.
constexpr int kDequantizeMinRows = 12;  // measured crossover: between 8 and 16 rows (kernels_bench)
// Where AMX runs, the fused path takes every product of at least kFusedMinRows rows of x.
// kernels_bench, mlp1 shape (5760 x 2880), 2 threads, ms per product. x kept float32 (hi +
// lo), fused vs packed / oneDNN: 1 row 0.60 vs 0.31 / -; 3: - vs 0.65 / -; 4: 0.65 vs
// 0.75-0.78 / 1.77; 8: 0.66 vs 1.72 / 2.0; 16: 0.85 vs 3.5 / 2.1. x rounded to bf16,
// fused vs oneDNN: 24 rows 0.88 vs 1.94; 32: 1.01 vs 2.1; 64: 1.77 vs 2.77; 128: 2.97 vs
// 4.2-4.6; 256: 5.85 vs 7.6 (1.45 TFLOP/s, the AMX peak oneDNN's own matmul reaches here).
// Session 12, with the VBMI expansion into L1: 2 rows 0.41-0.42 vs 0.35-0.38 (packed
// still faster), 3 rows 0.41-0.42 vs 0.49-0.52. Session 13, in the engine (a 16-row step
// after a 1,000-token prefix, full 20b shape, experts streamed from memory rather than the
// benchmark's cache-warm matrix), mlp1 fused vs packed: 3 rows 0.67 vs 0.59 ms, 4 rows 0.68
// vs 0.76; so the fused path starts at 4.
constexpr int kFusedMinRows = 4;
// Rows of W expanded per oneDNN call: 256 x 2880 bf16 = 1.4 MiB, half of it in each of the
// two cores' 2 MiB L2. Measured (oneDNN alone, m = 64, k = 2880, this machine): 128 rows
// 490 GFLOP/s, 256 rows 760, 512 rows 525 (no longer in L2); fewer tiles also mean fewer
// parallel regions (two per tile), each a futex wake-up here.
constexpr int kTileRows = 256;

// The products are exact in float32, so the bf16 pattern is its upper half.
uint16_t UpperHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return static_cast<uint16_t>(bits >> 16);
}

void DequantizeRowsPortable(const Mxfp4Matrix& w, uint16_t* out, int64_t row_begin, int64_t row_end) {
  const int nblocks = w.cols / kBlock;
  for (int64_t r = row_begin; r < row_end; ++r) {
    for (int b = 0; b < nblocks; ++b) {
      const uint8_t* bytes = w.blocks + (r * nblocks + b) * kBlockBytes;
      const float scale = mxfp4::ScaleTable()[w.scales[r * nblocks + b]];
      uint16_t* dst = out + r * w.cols + b * kBlock;
      for (int j = 0; j < kBlockBytes; ++j) {
        dst[2 * j] = UpperHalf(kFp4Values[bytes[j] & 0xF] * scale);
        dst[2 * j + 1] = UpperHalf(kFp4Values[bytes[j] >> 4] * scale);
      }
    }
  }
}

// Lane j of the result is the 32-bit word (odd_j << 16) | even_j: a block's elements 2j
// and 2j + 1 in order, as exact bf16 values. `scaled_values` is the block's line of
// mxfp4::ScaledValueTables (no multiply by the scale here).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i ExpandBlockAvx512(
    const uint8_t* bytes, const float* scaled_values) {
  const __m512i high_half = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const __m512i v = _mm512_maskz_cvtepu8_epi32(kAllLanes, _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  const __m512 lut = _mm512_load_ps(scaled_values);
  // vpermps reads only the low 4 bits of each index: no mask needed for the low nibble.
  const __m512 even = _mm512_maskz_permutexvar_ps(kAllLanes, v, lut);
  const __m512 odd = _mm512_maskz_permutexvar_ps(kAllLanes, _mm512_maskz_srli_epi32(kAllLanes, v, 4), lut);
  return _mm512_or_si512(_mm512_maskz_srli_epi32(kAllLanes, _mm512_castps_si512(even), 16),
                         _mm512_and_si512(_mm512_castps_si512(odd), high_half));
}

// For every exponent byte s, the bf16 bits of ScaledValueTables' 16 values (the float's top
// half, as ExpandBlockAvx512 takes them), twice: entries n and n + 16 are value n, so a
// 5-bit word index whose bit 4 is a neighbour nibble's bit still finds value n. 64 bytes
// per s, 64-byte aligned.
const uint16_t* ScaledBf16Tables() {
  struct Tables {
    alignas(64) uint16_t value[256 * 32];
    Tables() {
      const float* scaled = mxfp4::ScaledValueTables();
      for (int s = 0; s < 256; ++s) {
        for (int n = 0; n < 16; ++n) {
          uint32_t bits;
          std::memcpy(&bits, &scaled[s * 16 + n], sizeof(bits));
          value[s * 32 + n] = value[s * 32 + 16 + n] = static_cast<uint16_t>(bits >> 16);
        }
      }
    }
  };
  static const Tables tables;
  return tables.value;
}

// How the AVX-512 code expands MXFP4 blocks into bf16 (the same bits either way).
enum class Expansion { kAvx512, kVbmi };

// For chunks expanded into L1 and read there at once (the fused path's RowsFilled): VBMI
// where the CPU has it (alternating runs: fused 8-row product 0.52-0.60 -> 0.45-0.47 ms,
// rounded 32 rows 0.75-0.82 -> 0.65-0.68). Expanding into L2 or memory, the AVX-512
// expansion is faster (whole matrix, 2 threads: 39.5 against 34.5 Gelem/s), so those
// callers use it.
Expansion L1Expansion() { return CpuHasAvx512Vbmi() ? Expansion::kVbmi : Expansion::kAvx512; }

#define WARDEN_VBMI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")))

// ExpandBlockAvx512's 32 bf16 values in three operations: vpermb puts byte k / 2 of the
// block into the low byte of word k (high byte zero), vpsrlvw shifts the odd words' high
// nibble down, vpermw looks the words up in the block's line of ScaledBf16Tables.
// Bit for bit ExpandBlockAvx512's result (same table values; test).
WARDEN_VBMI_TARGET inline __m512i ExpandBlockVbmi(const uint8_t* bytes, const uint16_t* scaled_bf16) {
  // Byte 2k of the spread: block byte k / 2; byte 2k + 1: zeroed by the mask.
  alignas(64) static constexpr uint8_t kSpread[64] = {
      0,  0, 0,  0, 1,  0, 1,  0, 2,  0, 2,  0, 3,  0, 3,  0, 4,  0, 4,  0, 5,  0, 5,  0, 6,  0, 6,  0, 7,  0, 7,  0,
      8,  0, 8,  0, 9,  0, 9,  0, 10, 0, 10, 0, 11, 0, 11, 0, 12, 0, 12, 0, 13, 0, 13, 0, 14, 0, 14, 0, 15, 0, 15, 0};
  constexpr __mmask64 kLowBytes = 0x5555555555555555ull;
  const __m512i block = _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  const __m512i words = _mm512_maskz_permutexvar_epi8(kLowBytes, _mm512_load_si512(kSpread), block);
  const __m512i odd_shift = _mm512_set1_epi32(4 << 16);  // word 2j: 0, word 2j + 1: 4
  const __m512i nibbles = _mm512_srlv_epi16(words, odd_shift);
  return _mm512_permutexvar_epi16(nibbles, _mm512_load_si512(scaled_bf16));
}

// Measured and dropped (session 10): a VBMI expansion (one byte permute spreads a block to
// 32 words, one vpermw looks them up in a bf16 table whose exponents were shifted by the
// block's scale; about half the operations) ran at the same 11 Gelem/s per thread in
// kernels_bench. Session 12: looking the values up already scaled (ScaledValueTables, two
// multiplies and a mask fewer per block) took BM_DequantizeMxfp4 from 12.2-12.7 to 18.2
// Gelem/s on one thread and 19.2 to 39.2-39.8 on two, and the fused path's 8-row product
// (the expansion into L1 is most of it) from 0.60-0.63 to 0.55 ms; so the arithmetic, not
// the stores, bounded it on this CPU.

// Where row i of a tile (W[row .. row + rows) x [col .. col + width)) starts: its first
// block's bytes and exponent, and its output. Shared by the two expansion loops below, which
// differ only in their instruction sets.
struct TileRow {
  const uint8_t* blocks;
  const uint8_t* exponents;
  uint16_t* out;
};
inline TileRow RowOfTile(const Mxfp4Matrix& w, int64_t row, int col, uint16_t* out, int out_stride, int i) {
  const int64_t first_block = (row + i) * (w.cols / kBlock) + col / kBlock;
  return {w.blocks + first_block * kBlockBytes, w.scales + first_block, out + static_cast<size_t>(i) * out_stride};
}

// DequantizeTileAvx512 with ExpandBlockVbmi.
WARDEN_VBMI_TARGET void DequantizeTileVbmi(const Mxfp4Matrix& w, int64_t row, int rows, int col, int width,
                                           uint16_t* out, int out_stride) {
  const uint16_t* tables = ScaledBf16Tables();
  for (int i = 0; i < rows; ++i) {
    const TileRow t = RowOfTile(w, row, col, out, out_stride, i);
    for (int b = 0; b < width / kBlock; ++b) {
      _mm512_storeu_si512(t.out + b * kBlock, ExpandBlockVbmi(t.blocks + b * kBlockBytes, tables + 32 * t.exponents[b]));
    }
  }
}

// W[row .. row + rows) x [col .. col + width) as bf16 into out, out_stride values per row
// (col and width multiples of kBlock), by `expansion` (kVbmi requires CpuHasAvx512Vbmi).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void DequantizeTileAvx512(
    const Mxfp4Matrix& w, int64_t row, int rows, int col, int width, uint16_t* out, int out_stride,
    Expansion expansion) {
  if (expansion == Expansion::kVbmi) return DequantizeTileVbmi(w, row, rows, col, width, out, out_stride);
  const float* tables = mxfp4::ScaledValueTables();
  for (int i = 0; i < rows; ++i) {
    const TileRow t = RowOfTile(w, row, col, out, out_stride, i);
    for (int b = 0; b < width / kBlock; ++b) {
      _mm512_storeu_si512(t.out + b * kBlock, ExpandBlockAvx512(t.blocks + b * kBlockBytes, tables + 16 * t.exponents[b]));
    }
  }
}

// Rows [row_begin, row_end) of W as bf16, row-major with w.cols values per row.
void DequantizeRowsAvx512(const Mxfp4Matrix& w, uint16_t* out, int64_t row_begin, int64_t row_end,
                          Expansion expansion) {
  DequantizeTileAvx512(w, row_begin, static_cast<int>(row_end - row_begin), 0, w.cols, out + row_begin * w.cols,
                       w.cols, expansion);
}

// Rows of W expanded per step of the fused AMX path when x has more than 16 rows (several
// passes over each chunk): 64 x 2880 bf16 = 360 KiB, in the core's own L2 from its
// expansion to the tiles' reads.
constexpr int kFusedChunkRows = 64;

// Whether a product of m rows of x on `path` takes x rounded to bf16 (on oneDNN or the fused
// path alike, and the packed kernel takes a rounded copy): the rounded paths and
// kAutoRounded always; kAuto from kRoundedActivationMinRows rows.
bool RoundsActivations(ExpertPath path, int m) {
  switch (path) {
    case ExpertPath::kDequantizeOneDnnRounded:
    case ExpertPath::kFusedAmxRounded:
      return true;
    case ExpertPath::kAutoRounded:
      return true;
    case ExpertPath::kAuto:
      return m >= kRoundedActivationMinRows;
    default:
      return false;
  }
}

bool FusedAmxHandles(const Mxfp4Matrix& w) {
  return amx_dense::Available() && CpuHasAvx512() && w.cols % amx_dense::kTileDepth == 0 &&
         w.rows % amx_dense::kTileRows == 0;
}

// The fused path: each thread expands its own rows of W a chunk at a time into its own
// buffer and multiplies them there on AMX tiles (amx_dense.h), with x split into hi + lo
// (float32 accuracy; 16 rows of x per pass over a chunk) or, `parts` kHiOnly, rounded to
// bf16 (32 rows per pass). W is never written out whole nor repacked by oneDNN, and the
// threads meet once. When one pass takes all of x, the chunks are 32 rows x 256 columns in
// L1 (amx_dense::RowsFilled; 8 rows of x: 0.84 -> 0.66 ms against 64-row chunks in L2).
// Requires FusedAmxHandles(w).
void FusedAmxProduct(ThreadPool& pool, const Mxfp4Matrix& w, const float* x, int m, const float* bias, float* y,
                     amx_dense::Bf16Parts parts) {
  const int group_size = amx_dense::MaxPackedTokens(parts);
  int groups = 0;
  const amx_dense::PackedActivations* xs = amx_dense::PackGroups(x, m, w.cols, parts, &groups);
  if (groups == 1 && w.rows % (2 * amx_dense::kTileRows) == 0) {
    // One pass over W: each 32 rows x 256 columns are expanded into L1 and read there.
    constexpr int64_t kPair = 2 * amx_dense::kTileRows;
    pool.ParallelFor(w.rows / kPair, [&w, xs, bias, y](int64_t pair_begin, int64_t pair_end) {
      amx_dense::RowsFilled(w.rows, w.cols, *xs, bias, y, pair_begin * kPair, pair_end * kPair,
                            [&w](int64_t row, int col, int width, uint16_t* out) {
                              DequantizeTileAvx512(w, row, 2 * amx_dense::kTileRows, col, width, out,
                                                   amx_dense::kChunkCols, L1Expansion());
                            });
    });
    return;
  }
  constexpr int64_t kUnit = amx_dense::kTileRows;
  pool.ParallelFor(w.rows / kUnit, [&w, xs, groups, group_size, bias, y](int64_t unit_begin, int64_t unit_end) {
    thread_local AlignedVector<uint16_t> buffer;
    buffer.resize(static_cast<size_t>(kFusedChunkRows) * w.cols);
    for (int64_t r = unit_begin * kUnit; r < unit_end * kUnit; r += kFusedChunkRows) {
      const int64_t end = std::min<int64_t>(r + kFusedChunkRows, unit_end * kUnit);
      const Mxfp4Matrix part{w.blocks + r * (w.cols / kBlock) * kBlockBytes, w.scales + r * (w.cols / kBlock),
                             static_cast<int>(end - r), w.cols};
      DequantizeRowsAvx512(part, buffer.data(), 0, end - r, Expansion::kAvx512);
      for (int g = 0; g < groups; ++g) {
        float* y_group = y + static_cast<size_t>(g) * group_size * w.rows;
        amx_dense::RowsFromBuffer(buffer.data(), w.rows, w.cols, xs[g], bias, y_group, r, end);
      }
    }
  });
}

enum class ExpertRoute { kFused, kPacked, kDequantizeOneDnn };

// Where ExpertMatmul sends a product; kFused also when asked for where it cannot run (the
// caller reports that).
ExpertRoute Route(const Mxfp4Matrix& w, int m, ExpertPath path, Mxfp4Activations packed) {
  const bool automatic =
      path == ExpertPath::kAuto || path == ExpertPath::kAutoRounded || path == ExpertPath::kAutoFloat32;
  // Int8 packed activations (the fast mode's decode steps) stay on the packed kernel, so a
  // row's result does not depend on how many rows share its expert.
  const bool fused_fits = automatic && packed == Mxfp4Activations::kFloat32 && m >= kFusedMinRows;
  const bool fused_asked = path == ExpertPath::kFusedAmx || path == ExpertPath::kFusedAmxRounded;
  if (fused_asked || (fused_fits && FusedAmxHandles(w))) return ExpertRoute::kFused;
  // Where oneDNN has no bf16 matmul, the expanded product would run our own bf16 rows on x's
  // two parts; the packed kernel runs on x itself (with AVX2, from 32 rows of x, W decoded
  // into float32 tiles once per 36 rows of x).
  if (path == ExpertPath::kPacked || (automatic && (m < kDequantizeMinRows || !OneDnnHasBf16Matmul()))) {
    return ExpertRoute::kPacked;
  }
  return ExpertRoute::kDequantizeOneDnn;
}

}  // namespace

void DequantizeMxfp4ToBf16(const Mxfp4Matrix& w, uint16_t* out, ThreadPool* pool, KernelIsa isa) {
  const bool avx512 = isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
  const Expansion expansion = isa == KernelIsa::kBest ? L1Expansion() : Expansion::kAvx512;
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx512) {
      DequantizeRowsAvx512(w, out, begin, end, expansion);
    } else {
      DequantizeRowsPortable(w, out, begin, end);
    }
  };
  if (pool != nullptr) {
    pool->ParallelFor(w.rows, rows);
  } else {
    rows(0, w.rows);
  }
}

bool ExpertMatmulRunsOnOneDnn(const Mxfp4Matrix& w, int m, ExpertPath path, Mxfp4Activations packed) {
  return m > 0 && Route(w, m, path, packed) == ExpertRoute::kDequantizeOneDnn;
}

absl::Status ExpertMatmul(KernelContext& ctx, const Mxfp4Matrix& w, const float* x, int m,
                          const float* bias, float* y, ExpertPath path, Mxfp4Activations packed) {
  const ExpertRoute route = Route(w, m, path, packed);
  if (route == ExpertRoute::kFused) {
    if (!FusedAmxHandles(w)) return absl::FailedPreconditionError("the fused AMX expert path cannot run here");
    FusedAmxProduct(ctx.pool(), w, x, m, bias, y,
                    RoundsActivations(path, m) ? amx_dense::Bf16Parts::kHiOnly : amx_dense::Bf16Parts::kHiAndLo);
    return absl::OkStatus();
  }
  if (route == ExpertRoute::kPacked) {
    const float* input = x;
    if (RoundsActivations(path, m)) {
      // The calling thread's, reused: an expert's few rows of a prefill, no allocation once grown.
      thread_local AlignedVector<float> rounded;
      RoundToBf16Floats(x, static_cast<size_t>(m) * w.cols, &rounded);
      input = rounded.data();
    }
    Mxfp4Matmul(w, input, m, bias, y, &ctx.pool(), KernelIsa::kBest, packed);
    return absl::OkStatus();
  }
  // W is expanded a tile of rows at a time, so the bf16 copy stays in cache between the
  // expansion and oneDNN's read of it.
  const SplitActivations split =
      SplitForBf16(x, m, w.cols, RoundsActivations(path, m) ? Bf16Activations::kRounded : Bf16Activations::kSplit);
  std::vector<uint16_t>& tile = ctx.dnnl().dequantized;
  tile.resize(static_cast<size_t>(kTileRows) * w.cols);
  const bool avx512 = CpuHasAvx512();
  // Tile i's output is copied into y (parts summed, bias added) by both threads in the same
  // parallel region that expands tile i + 1, instead of by one thread after the product.
  int pending = -1;  // first row of the tile whose product waits in the context's buffer
  auto copy_pending = [&](int64_t t_begin, int64_t t_end) {
    const int n = std::min(kTileRows, w.rows - pending);
    AddSplitRows(ctx.dnnl(), split, n, bias ? bias + pending : nullptr, y + pending, w.rows, t_begin, t_end);
  };
  for (int r0 = 0; r0 < w.rows; r0 += kTileRows) {
    const int rows = std::min(kTileRows, w.rows - r0);
    const Mxfp4Matrix part{w.blocks + static_cast<size_t>(r0) * w.cols / 2,
                           w.scales + static_cast<size_t>(r0) * w.cols / kBlock, rows, w.cols};
    ctx.pool().ParallelFor(rows, [&](int64_t begin, int64_t end) {
      if (avx512) {
        DequantizeRowsAvx512(part, tile.data(), begin, end, Expansion::kAvx512);
      } else {
        DequantizeRowsPortable(part, tile.data(), begin, end);
      }
      if (pending >= 0) copy_pending(m * begin / rows, m * end / rows);
    });
    const absl::Status status = SplitProduct(ctx.dnnl(), split, tile.data(), rows);
    if (!status.ok()) return status;
    pending = r0;
  }
  if (pending >= 0) copy_pending(0, m);
  return absl::OkStatus();
}

}  // namespace warden::model
