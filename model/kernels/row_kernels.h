// Pieces shared by the row-wise matrix kernels (bf16 dense, int8 dense, MXFP4): AVX-512
// helpers that keep GCC 12 quiet, and the rule for when a product is worth the threads.
// Internal to model/kernels; header-only.
#ifndef WARDEN_MODEL_KERNELS_ROW_KERNELS_H_
#define WARDEN_MODEL_KERNELS_ROW_KERNELS_H_

#include <immintrin.h>

#include <cstdint>

#include "model/kernels/thread_pool.h"

namespace warden::model::row_kernels {

// Masked intrinsic forms with every lane set: GCC 12's unmasked forms trip
// -Wmaybe-uninitialized through _mm512_undefined_*.
constexpr __mmask16 kAllLanes = 0xFFFF;

// Horizontal sum; written out because GCC 12's _mm512_reduce_add_ps trips
// -Wmaybe-uninitialized.
__attribute__((target("avx512f"))) inline float SumLanes(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

// Runs rows(begin, end) over [0, num_rows): split over `pool` when the product has at least
// 64K multiply-adds (below that the threads cost more than they save), else inline.
// `pool` may be null (always inline).
template <typename RowFn>
void ForRows(ThreadPool* pool, int64_t num_rows, int64_t multiply_adds, const RowFn& rows) {
  if (pool != nullptr && multiply_adds >= (int64_t{1} << 16)) {
    pool->ParallelFor(num_rows, rows);
  } else {
    rows(0, num_rows);
  }
}

}  // namespace warden::model::row_kernels

#endif  // WARDEN_MODEL_KERNELS_ROW_KERNELS_H_
