// The fast mode's int8 dense product (int8_dense.h) for 3-16 tokens on AMX tiles (internal
// to model/kernels).
//
// Why: the VNNI row kernel (int8_dense_tiles.h) turns compute-bound at 3 tokens
// (kernels_bench from DRAM, 2 threads, 4096 x 2880: 413 / 481 / 990 / 1,143 us at 1 / 2 /
// 3 / 4 tokens), so a decode step of 3-8 sequences in `fast` mode read its int8 weights at
// half the memory's pace. Sending those steps to the bf16 AMX path instead was faster but
// made a sequence's logits depend on how many others shared its step; this path computes
// the very integers of the VNNI kernel, so it does not. With it, `fast` steps of 9-16 rows
// use the int8 copies too (model/forward.h, kFastDenseMaxRows).
//
// How: the int16 activations as two byte digits, v = 256 * hi + lo (hi in [-128, 127]
// signed, lo in [0, 255] unsigned). Per 64 columns, one A tile holds 16 rows of W as they
// lie in memory (int8, no repacking), and TDPBSSD (W x hi) and TDPBSUD (W x lo) add into
// two int32 tiles of [16 rows x tokens]; per 128-value chunk the exact sum is
// 256 * sum_hi + sum_lo, folded into float accumulators with FoldChunk's arithmetic lane by
// lane and finished with Finish (int8_dense_tiles.h), so every output is bit-identical to
// the VNNI and portable kernels'.
//
// Measured (session 17; kernels_bench BM_Int8DecodeFromMemory, 4096 x 2880 from DRAM, 2
// threads, alternating runs): 3 / 4 / 8 tokens 1,214-1,228 / 1,269-1,301 / 1,556-1,744 us on
// the VNNI tile, 615-692 / 641-733 / 688-803 on AMX with one pair of sum tiles, ~5 % less
// with two pairs in turn (the tiles multiply chunk k + 1 while the vector units fold chunk
// k), and 512-525 / 550-565 / 610-615 us (23.0 / 21.4 / 19.3 GB/s) with a prefetch of the
// next tile's rows into L2 (a 1 KB near prefetch instead: no better). 1-2 tokens (VNNI, now
// with exact chunk sums): 441-443 / 489-498 against 452-470 / 518-536 us before. The full
// 20b shape's `fast` decode at batch 8: 14.9 / 16.8 -> 20.1 / 22.0 tokens/s (probe 27.7-29.1
// GB/s, a slow hour; batch 1 in the same runs 7.4 / 7.1 -> 8.3 / 8.4). With the vectorised
// quantiser and pack, in a faster hour: 1 / 8 / 16 tokens 406-413 / 480-489 / 604-605 us.
//
// Thread safety: Available() is thread-safe. Pack writes only `out`; Rows reads its inputs
// and writes y rows [row_begin, first row not done), loading its own tile configuration on
// the calling thread and releasing the tiles before it returns, so threads may run it on
// disjoint ranges.
#ifndef WARDEN_MODEL_KERNELS_INT8_DENSE_AMX_H_
#define WARDEN_MODEL_KERNELS_INT8_DENSE_AMX_H_

#include <cstdint>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/int8_dense.h"
#include "model/kernels/int8_dense_tiles.h"

namespace warden::model::int8_dense_amx {

inline constexpr int kMinTokens = 3;  // fewer stay on VNNI, which is bound by memory there
inline constexpr int kMaxTokens = 16;
inline constexpr int kTileRows = 16;
inline constexpr int kStepCols = 64;  // columns of W per tile product

// True when the CPU has AMX-INT8 and Linux granted the tile state (amx_tiles.h).
bool Available();

// The shapes Rows handles: kMinTokens..kMaxTokens tokens, cols a multiple of kStepCols (a
// tile load reads 64 bytes of every row; a shorter last step would read past a row).
bool Handles(int tokens, int cols);

// x's digits as AMX B tiles: per step of 64 columns, 16 rows of `tokens` x 4 bytes
// (columns 4j..4j+3 of each token in row j, VNNI order), hi and lo apart; steps[k * 16 + t]
// is token t's step for chunk k (0 past the tokens).
struct Digits {
  int tokens = 0;
  int cols = 0;
  int chunks = 0;
  AlignedVector<int8_t> hi;
  AlignedVector<uint8_t> lo;
  AlignedVector<float> steps;
};

// Requires Handles(x.tokens, x.cols). Reuses out's capacity (no allocation in a steady
// decode loop).
void Pack(const int8_dense_tiles::Int16Activations& x, Digits* out);

// y[t, r] for the rows of [row_begin, row_end) in whole tiles of kTileRows, as
// int8_dense_tiles::Rows* would write them; returns the first row it did not do (the caller
// computes the remaining rows with those kernels). Requires Available() and x packed from
// w.cols columns. bias may be null.
int64_t Rows(const Int8Matrix& w, const Digits& x, const float* bias, float* y, int64_t row_begin,
             int64_t row_end);

}  // namespace warden::model::int8_dense_amx

#endif  // WARDEN_MODEL_KERNELS_INT8_DENSE_AMX_H_
