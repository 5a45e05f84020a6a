// What the AVX2 kernels share (internal to model/kernels): the target attribute that lets a
// function use AVX2 + FMA in a build for baseline x86-64, and the horizontal sum of a vector.
// Callers check the CPU (cpu_features.h) before running such a function.
#ifndef WARDEN_MODEL_KERNELS_AVX2_LANES_H_
#define WARDEN_MODEL_KERNELS_AVX2_LANES_H_

#include <immintrin.h>

#define WARDEN_AVX2 __attribute__((target("avx2,fma")))

namespace warden::model::avx2_lanes {

// The sum of v's eight lanes: halves, then pairs, then the last two (a fixed order, so the
// same bits wherever it is called).
WARDEN_AVX2 inline float SumLanes(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
}

}  // namespace warden::model::avx2_lanes

#endif  // WARDEN_MODEL_KERNELS_AVX2_LANES_H_
