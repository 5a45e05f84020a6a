// The vectorised exp of the softmax kernels (internal to model/kernels; header-only):
// shared by the float32 attention (attention.cc) and the AMX prefill attention
// (attention_amx.cc). Pure functions: thread-safe.
#ifndef WARDEN_MODEL_KERNELS_SOFTMAX_AVX512_H_
#define WARDEN_MODEL_KERNELS_SOFTMAX_AVX512_H_

#include <immintrin.h>

#include "model/kernels/exp_polynomial.h"
#include "model/kernels/row_kernels.h"

namespace warden::model::softmax_avx512 {

using row_kernels::kAllLanes;

// exp(x) for x <= 0 (softmax arguments after subtracting the max): 2^k * e^r with
// |r| <= ln2/2 and exp_polynomial.h's degree-7 Taylor polynomial for e^r (relative error
// < 1e-7 before float rounding). Arguments below -100 give (nearly) zero; a NaN stays NaN
// (vmaxps returns its second operand when either is NaN, so x goes second).
__attribute__((target("avx512f"))) inline __m512 ExpNonPositive(__m512 x) {
  x = _mm512_maskz_max_ps(kAllLanes, _mm512_set1_ps(-100.0f), x);
  const __m512 k = _mm512_maskz_roundscale_ps(kAllLanes, _mm512_mul_ps(x, _mm512_set1_ps(exp_polynomial::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(exp_polynomial::kLn2High), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(exp_polynomial::kLn2Low), r);
  __m512 p = _mm512_set1_ps(exp_polynomial::kTaylor[0]);
#pragma GCC unroll 8
  for (int i = 1; i < exp_polynomial::kTaylorTerms; ++i) {
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(exp_polynomial::kTaylor[i]));
  }
  return _mm512_maskz_scalef_ps(kAllLanes, p, k);
}

// scores[p] = exp(scores[p] - max); returns their sum.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline float ExpInPlaceAvx512(float* scores, int n,
                                                                                            float max) {
  const __m512 max_v = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  for (int p = 0; p < n; p += 16) {
    const __mmask16 lanes = n - p >= 16 ? kAllLanes : static_cast<__mmask16>((1u << (n - p)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(
        lanes, ExpNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, scores + p), max_v)));
    _mm512_mask_storeu_ps(scores + p, lanes, e);
    sum = _mm512_add_ps(sum, e);
  }
  return row_kernels::SumLanes(sum);
}

}  // namespace warden::model::softmax_avx512

#endif  // WARDEN_MODEL_KERNELS_SOFTMAX_AVX512_H_
