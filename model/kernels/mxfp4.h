// MXFP4 matrix products: y[t, r] = sum_c W[r, c] * x[t, c] + bias[r] for t < m, with W
// kept packed (never dequantised as a whole). Two implementations compute the same sums:
// a portable one and an AVX-512 one; Mxfp4Matmul picks at run time. x is taken as float32
// or quantised to integers (Mxfp4Activations).
// Measured and dropped (kernels_bench from memory, 2 threads, 5760 x 2880, GB/s of weights;
// the float32 kernel 18.1-19.8, int8 22.8-23.7 in the same runs): nibbles decoded by a
// 32-entry word-table permute (vpermw) into bf16 weights for vdpbf16ps (16.9, 18.3 with two
// dependency chains) or into int16 weights for VNNI vpdpwssd with int16 activations
// (19.4); both slower than the float32 kernel when the matrix sits in L2 (41 vs 31 us for
// 256 rows), so vpermw costs more than its count suggests here.
// Also dropped (session 11, a standalone one-token test, 2 threads, 5760-wide rows): vpermb
// (one uop, where vpermw is two) decoding 64 nibbles into bf16 bytes for vdpbf16ps, about 5
// operations per 32 weights against this kernel's 7: 16.1-17.3 GB/s against 16.7-17.7, and
// 14.8-15.6 with x split into two bf16 halves (needed for float32-level error: 1.3e-4 of
// sum |w||x| with x rounded to bf16, 2e-7 split, 1.4e-8 here). The same from a 29 MB matrix
// in L3 as from DRAM: the float32 kernel is compute-bound at ~17 GB/s on this CPU.
// Also dropped (session 7): running all of a step's experts as one grouped parallel loop
// per matrix (2 barriers per layer instead of 2 per expert): --layers 4 decode +2 %, the
// full 20b shape unchanged within noise in alternating runs (exact and fast).
// Also dropped (session 8): AMX-INT8 for float32 activations (x written exactly as three
// signed-byte digits of a 22-bit integer per block, 128 int8 weights per 64 bytes by two
// vpshufb, TDPBSSD into per-block int32 sums scaled per step). One token from L2, one
// thread: 34-38 us for 256 rows where this kernel takes 33; from memory, 2 threads: 12-13.7
// GB/s against 17. Each step (16 rows x 128 values) moves ~5 KB through L1 for 1 KB of
// weights (decoded A tiles, mostly-zero x tiles, the stored sums); leaving each part out in
// turn, decoding took ~43 ns, scaling the sums ~27 and the tile work ~33, where this
// kernel's whole step takes ~89. Splitting the sums over independent tiles and
// software-pipelining the decode did not help; the patch is kept outside the repository.
// 8 tokens: 171 vs 186 us (8 %). Not kept.
// Kept (session 12): each block's values come from a 16-float table already scaled by the
// block's exponent (mxfp4::ScaledValueTables), so no multiply per block. One thread,
// kernels_bench: one token from L2 27.0 -> 24.7 us (256 rows), from L3 606 -> 564 us (5760
// rows), 8 tokens 1.5-3 %; decode of the full 20b shape unchanged within noise (6.3-6.7
// tokens/s both, alternating runs): from DRAM the kernel waits on memory, not arithmetic.
// Also dropped (session 14): exact-mode decode through the int8 kernel (mxfp4_int8.h) with
// x written as two int8 digits per block (the first digit's residual quantised again and
// run as a second token, so one weight decode serves both; error <= 1/64,516 of the
// block's largest |x|; the fixture's token-by-token logits moved from 8e-6 to 1.7e-4 of
// the reference). kernels_bench from DRAM, 2 threads, 5760 rows: 20.5 GB/s against this
// kernel's 20.6; the full 20b shape's decode: experts 71-73 against 68-69 ms per token
// (alternating runs). In the model this kernel streams the experts at 19-20 GB/s, the
// one-digit int8 kernel at 20-24 and dense bf16 rows at 26-28, while the bare stream of the
// same matrices reaches 32 (kernels_bench BM_StreamMxfp4LayoutFromMemory): the layout is not
// the limit, the arithmetic interleaved with the stream is, and halving the operations per
// weight recovers only part of it. Open.
// Also measured (session 15): one row at a time (which made the int8 kernel 10 % faster,
// mxfp4_int8.cc) and a 6 KB prefetch distance: kernels_bench from DRAM 20.4-23.5 against
// 19.4-21.4 GB/s for 6 KB, but the full 20b shape's exact decode did not move (four
// alternating runs each: 5.92-6.11 against 5.63-6.18 tokens/s), so this kernel keeps pairs
// and 12 KB.
// Session 16: the near prefetch as prefetcht1 instead of t0: kernels_bench from DRAM
// 21.2 / 22.1 against 19.9 / 20.5 GB/s, the full 20b shape's exact decode 5.95 / 5.88
// against 6.02 / 6.00 tokens/s (dropped). Kept: a second prefetch 64 KB ahead into L2
// (row_kernels::kFarPrefetchBytes). perf (cpu-clock sampling works in this VM) splits an exact
// decode token, per thread: bf16 dense rows ~95 ms (~25.6 GB/s), experts ~71 ms
// (~17.9 GB/s), waiting at loop ends ~6-8 %.
// Session 19: the kernel's compute ceiling, one token from L2 on one thread, is 14.4 GB/s of
// weights (two threads from DRAM: 19.2-20.8, the bare stream 27.2-31.5), so from memory it
// keeps ~0.7 of that ceiling. Measured and dropped before writing kernel code: warming the
// next layer's dense weights into the (480 MiB, shared) L3 while this compute-bound kernel
// leaves memory bandwidth spare. A buffer re-read whole stays in L3 up to ~128 MiB (54 GB/s
// against 29-30 from DRAM), but a 24 MiB buffer touched during a 64 MiB stream, by
// prefetcht0/t1/t2/nta or by plain loads, read back at 23-27 GB/s: not retained.
// Thread-safe: the functions only read their inputs and write y.
#ifndef WARDEN_MODEL_KERNELS_MXFP4_H_
#define WARDEN_MODEL_KERNELS_MXFP4_H_

#include "model/kernels/tensor_types.h"
#include "model/kernels/thread_pool.h"

namespace warden::model {

// Which implementation a kernel runs; kBest is the fastest the CPU supports.
// kAvx2: the AVX2 + FMA kernels where a kernel has them (avx2_rows.h: the bf16 and MXFP4
// rows with float32 x, their tiled prefill product, the int8 dense rows; attention_avx2.h;
// mxfp4_int8.h's int8 expert rows), the portable code elsewhere.
enum class KernelIsa { kPortable, kAvx512, kBest, kAvx2 };

// Whether a kernel should run its AVX-512 code for `isa`: an explicit request is obeyed
// (callers check the CPU first, as the tests do); kBest follows the CPU.
bool UsesAvx512(KernelIsa isa);

// Whether a kernel without AVX-512 code for `isa` should run its AVX2 code: kAvx2, or kBest
// on a CPU with AVX2 and FMA but not AVX-512.
bool UsesAvx2(KernelIsa isa);

// How the packed kernel takes x:
//  - kFloat32: as given, float32 products (the exact mode);
//  - kInt8: quantised to int8 per 32-value block, error <= 1/254 of the block's largest
//    |x| (the fast mode); integer products, fewer operations per weight (mxfp4_int8.h):
//    VNNI, or AVX2 (kBest without VNNI, or kAvx2); under kPortable, or on a CPU with
//    neither, a portable version computes the same sums.
enum class Mxfp4Activations { kFloat32, kInt8 };

// x is [m, w.cols] row-major, y is [m, w.rows]; bias may be null. w.cols % 32 == 0.
// `pool` (may be null) splits the rows of W across threads.
void Mxfp4Matmul(const Mxfp4Matrix& w, const float* x, int m, const float* bias, float* y,
                 ThreadPool* pool, KernelIsa isa = KernelIsa::kBest,
                 Mxfp4Activations activations = Mxfp4Activations::kFloat32);

// The value of element `col` of row `row`, decoded (for tests and debugging).
float Mxfp4Element(const Mxfp4Matrix& w, int row, int col);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_MXFP4_H_
