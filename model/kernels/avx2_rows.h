// AVX2 + FMA row kernels for CPUs without AVX-512 (e.g. AMD Zen 2/3, older Intel), where
// the engine would otherwise run scalar loops: a scalar dot product is bound by the latency
// of one dependent add per element (~10 x below memory speed for decode).
//
// Same contracts as the portable kernels they stand in for (dense.cc DirectRowsPortable and
// PortableBf16Matmul, mxfp4.cc RowsPortable); only the order of the float32 sums differs.
// Callers check CpuHasAvx2Fma() first. Thread safety: pure functions over disjoint rows.
#ifndef WARDEN_MODEL_KERNELS_AVX2_ROWS_H_
#define WARDEN_MODEL_KERNELS_AVX2_ROWS_H_

#include <cstdint>

#include "model/kernels/tensor_types.h"

namespace warden::model::avx2_rows {

// For rows [row_begin, row_end) of W (bf16 [rows, cols]) and each of the m rows of x
// ([m, cols]): y[t * w.rows + r] = W[r] . x[t] + bias[r] (bias may be null). Rows of x go
// in L2-sized blocks, four at a time (one widened weight serves four rows), so prefill-sized
// m is served too.
void Bf16Rows(const Bf16Matrix& w, const float* x, int m, const float* bias, float* y, int64_t row_begin,
              int64_t row_end);

// The same for MXFP4 W, with x given as mxfp4.cc's SplitEvenOdd lays it out (each 32-value
// block as its 16 even elements, then its 16 odd ones).
void Mxfp4Rows(const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y, int64_t row_begin,
               int64_t row_end);

}  // namespace warden::model::avx2_rows

#endif  // WARDEN_MODEL_KERNELS_AVX2_ROWS_H_
