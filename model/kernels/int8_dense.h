// The `fast` weight mode's dense product: 8-bit weights with one float scale per output
// row (per channel), made at load from bf16 weights, against activations quantised to
// int16 per 128 values (int8_dense_tiles.h says why; their rounding is ~250 times finer
// than the weights').
// y[t, r] = scale[r] * sum_c q[r, c] * x~[t, c] + bias[r]. Rounding each weight to 1/254 of
// its row's largest magnitude costs ~0.4% relative error per product, for half the bytes
// read per decode token.
// Thread safety: QuantizeRows and Int8Matrix are plain data; Int8DenseMatmul is as
// KernelContext (one caller at a time per context).
#ifndef WARDEN_MODEL_KERNELS_INT8_DENSE_H_
#define WARDEN_MODEL_KERNELS_INT8_DENSE_H_

#include <cstdint>
#include <vector>

#include "model/kernels/huge_pages.h"
#include "model/kernels/thread_pool.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {

// Owns the quantised weights of one [rows, cols] matrix. Movable, immutable once built.
struct Int8Matrix {
  std::vector<int8_t, HugePageAllocator<int8_t>> data;  // [rows, cols], streamed per token
  std::vector<float> scales;  // [rows]
  int rows = 0;
  int cols = 0;
};

// Rounds every row of `w` to int8 at the scale max|row| / 127 (0 for all-zero rows).
Int8Matrix QuantizeRows(const Bf16Matrix& w, ThreadPool& pool);

// x is [m, w.cols], y is [m, w.rows], bias may be null. Reads w once for all m rows (meant
// for decode-sized m). A token's outputs do not depend on the other tokens of the call.
// kPortable computes the same integer sums in plain C++; kAvx512 with AVX-512 BW; kBest
// with VNNI where the CPU has it.
void Int8DenseMatmul(KernelContext& ctx, const Int8Matrix& w, const float* x, int m, const float* bias,
                     float* y, KernelIsa isa = KernelIsa::kBest);

// Whether Int8DenseMatmul (kBest) runs m rows of x against `cols` columns on AMX tiles:
// 3-16 rows, cols a multiple of 64, a CPU with AMX-INT8 (int8_dense_amx.h).
bool Int8DenseRunsOnAmx(int m, int cols);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_INT8_DENSE_H_
