// Dense bf16 products for a few rows of x on AMX tiles (internal to model/kernels).
//
// Why: from three to sixteen rows of x (a decode batch, a small step) the AVX-512 kernel
// (paired_rows.h) is bound by its multiply-adds, not by memory: 8 tokens on 2 cores run at
// 137-151 GFLOP/s, i.e. weights stream at ~19 GB/s where one token streams at ~26. AMX's
// TDPBF16PS multiplies a 16 x 32 bf16 tile of W by a 32 x 16 tile of x in one instruction,
// so the product keeps pace with memory whatever the row count up to 16.
//
// Accuracy: as the oneDNN split path (dense.h), x is split into hi = bf16(x) and
// lo = bf16(x - hi); both products are exact in float32 and AMX accumulates in float32, so
// the result matches float32 to x's 16 leading mantissa bits (~1e-5 relative). The hi and
// lo rows of all tokens are the columns of the x tiles: 2m of them, in one tile for up to
// 8 tokens and two for up to 16. AMX flushes bf16 denormals (|x| < 1.2e-38) to zero.
//
// Also used by the fused expert path (expert_matmul.h), which expands MXFP4 weights into
// a buffer for RowsFromBuffer or chunk by chunk for RowsFilled.
//
// Thread safety: Available() is thread-safe (asks Linux once). Pack writes only `out`;
// Rows, RowsFromBuffer and RowsFilled read their inputs (RowsFilled calls `fill` on the
// calling thread) and write y rows [begin, end), so threads may run them on disjoint
// ranges. Each loads its own tile configuration on the calling thread and releases the
// tiles before returning (oneDNN's AMX kernels load theirs on the same threads).
#ifndef WARDEN_MODEL_KERNELS_AMX_DENSE_H_
#define WARDEN_MODEL_KERNELS_AMX_DENSE_H_

#include <cstdint>

#include "absl/functional/function_ref.h"

#include "model/kernels/aligned_vector.h"
#include "model/kernels/tensor_types.h"

namespace warden::model::amx_dense {

inline constexpr int kMaxTokens = 16;
inline constexpr int kTileRows = 16;   // rows of W per tile
inline constexpr int kTileDepth = 32;  // columns of W (bf16 values) per tile

// True when the CPU has AMX-TILE and AMX-BF16 and Linux gave this process the tile state
// (arch_prctl ARCH_REQ_XCOMP_PERM, asked on the first call).
bool Available();

// The shapes Rows handles: 1..kMaxTokens rows of x, cols a multiple of kTileDepth.
bool Handles(int m, int cols);

// x [m, cols] as AMX B tiles: per group of 16 columns (hi rows of the tokens, then their lo
// rows), [cols / 2][16][2] bf16 (consecutive column pairs interleaved, VNNI order); unused
// columns are zero. Packed with Bf16Parts::kHiOnly, the columns are the hi rows only
// (x rounded to bf16 once: half the tile work, bf16-activation accuracy, up to 32 tokens).
enum class Bf16Parts { kHiAndLo, kHiOnly };
struct PackedActivations {
  int tokens = 0;
  int cols = 0;
  int groups = 0;  // ceil(columns / 16), columns = 2 * tokens (kHiAndLo) or tokens
  bool has_lo = true;
  AlignedVector<uint16_t> data;

  const uint16_t* Group(int g) const { return data.data() + static_cast<size_t>(g) * cols * 16; }
};

// The most tokens one PackedActivations holds (two groups of 16 columns).
inline int MaxPackedTokens(Bf16Parts parts) { return parts == Bf16Parts::kHiAndLo ? kMaxTokens : 2 * kMaxTokens; }

// Requires Handles(m, cols). Reuses out's capacity (no allocation in a steady decode loop).
// With kHiOnly, 1 <= m <= MaxPackedTokens(kHiOnly).
void Pack(const float* x, int m, int cols, PackedActivations* out, Bf16Parts parts = Bf16Parts::kHiAndLo);

// x [m, cols] packed in groups of MaxPackedTokens(parts) rows: group g holds rows
// [g * MaxPackedTokens(parts), ...); *groups is their count. The result is the calling
// thread's buffer, reused by its next call (no allocation in a steady decode loop); the
// caller may hand it to its pool's workers until then. Requires Handles(min(m, kMaxTokens), cols).
const PackedActivations* PackGroups(const float* x, int m, int cols, Bf16Parts parts, int* groups);

// y[t, r] = sum_c W[r, c] * x[t, c] + bias[r] (bias may be null) for the rows of
// [row_begin, row_end) in whole tiles of kTileRows; returns the first row it did not do
// (the caller computes the remaining fewer than kTileRows rows another way). Requires
// Available() and x packed from w.cols columns.
int64_t Rows(const Bf16Matrix& w, const PackedActivations& x, const float* bias, float* y, int64_t row_begin,
             int64_t row_end);

// As Rows, for rows [row_begin, row_end) of a W with `total_rows` rows of `cols` columns
// that are held elsewhere: row row_begin + i at w_rows + i * cols (e.g. a buffer the caller
// expanded them into). y and bias are indexed by W's rows, as in Rows.
int64_t RowsFromBuffer(const uint16_t* w_rows, int64_t total_rows, int cols, const PackedActivations& x,
                       const float* bias, float* y, int64_t row_begin, int64_t row_end);

// Columns of W per call of a ChunkFill: 2 x 16 rows x 256 bf16 = 16 KiB, in L1 from the
// fill to the tile loads.
inline constexpr int kChunkCols = 256;
// fill(row, col, width, out) writes W[row .. row + 32) x [col .. col + width) as bf16 into
// out, row-major with kChunkCols values per row (width <= kChunkCols, a multiple of
// kTileDepth).
using ChunkFill = absl::FunctionRef<void(int64_t row, int col, int width, uint16_t* out)>;

// As Rows, for rows [row_begin, row_end) of a W that is never stored whole: `fill` expands
// it 32 rows x kChunkCols columns at a time into a buffer on this thread's stack, where
// the tiles read it (W with `total_rows` rows of `cols` columns; y and bias as in Rows).
// Requires row_begin and row_end multiples of 32, x packed from `cols` columns.
void RowsFilled(int64_t total_rows, int cols, const PackedActivations& x, const float* bias, float* y,
                int64_t row_begin, int64_t row_end, const ChunkFill& fill);

}  // namespace warden::model::amx_dense

#endif  // WARDEN_MODEL_KERNELS_AMX_DENSE_H_
