#include "model/kernels/ops.h"

#include <algorithm>
#include <cmath>

#include "model/kernels/softmax_avx512.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {

void RmsNorm(const float* x, const float* weight, int n, float eps, float* out) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float inv = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  for (int i = 0; i < n; ++i) out[i] = x[i] * inv * weight[i];
}

void ApplyRope(float* v, const float* cos, const float* sin, int d) {
  const int half = d / 2;
  for (int i = 0; i < half; ++i) {
    const float x1 = v[i], x2 = v[half + i];
    v[i] = x1 * cos[i] - x2 * sin[i];
    v[half + i] = x2 * cos[i] + x1 * sin[i];
  }
}

void Softmax(float* v, int n) {
  if (n <= 0) return;
  const float max = *std::max_element(v, v + n);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    v[i] = std::exp(v[i] - max);
    sum += v[i];
  }
  for (int i = 0; i < n; ++i) v[i] /= sum;
}

namespace {

void SwiGluPortable(const float* h, int n, float limit, float alpha, float* out) {
  for (int i = 0; i < n; ++i) {
    const float gate = std::min(h[2 * i], limit);
    const float lin = std::clamp(h[2 * i + 1], -limit, limit);
    out[i] = gate / (1.0f + std::exp(-alpha * gate)) * (lin + 1.0f);
  }
}

// Sixteen outputs per step. sigmoid(z) = 1 / (1 + e) for z >= 0 and e / (1 + e) below, with
// e = exp(-|z|) <= 1, so the exp never overflows (the portable code's exp(-z) may, to inf).
// min/max take h as their second operand, so a NaN in h stays NaN (as std::min/clamp keep it).
using row_kernels::kAllLanes;

__attribute__((target("avx512f"))) void SwiGluAvx512(const float* h, int n, float limit, float alpha, float* out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512 high = _mm512_set1_ps(limit), low = _mm512_set1_ps(-limit), a = _mm512_set1_ps(alpha);
  const __m512 one = _mm512_set1_ps(1.0f);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 first = _mm512_loadu_ps(h + 2 * i), second = _mm512_loadu_ps(h + 2 * i + 16);
    // The maskz forms over all lanes: GCC 12's plain _mm512_min_ps/max_ps warn (-Wmaybe-uninitialized).
    const __m512 gate = _mm512_maskz_min_ps(kAllLanes, high, _mm512_permutex2var_ps(first, even, second));
    const __m512 lin = _mm512_maskz_min_ps(
        kAllLanes, high, _mm512_maskz_max_ps(kAllLanes, low, _mm512_permutex2var_ps(first, odd, second)));
    const __m512 z = _mm512_mul_ps(a, gate);
    const __m512 e = softmax_avx512::ExpNonPositive(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(z)));
    const __mmask16 non_negative = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ);
    const __m512 sigmoid = _mm512_div_ps(_mm512_mask_blend_ps(non_negative, e, one), _mm512_add_ps(one, e));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(gate, sigmoid), _mm512_add_ps(lin, one)));
  }
  SwiGluPortable(h + 2 * i, n - i, limit, alpha, out + i);
}

}  // namespace

void SwiGlu(const float* h, int n, float limit, float alpha, float* out, KernelIsa isa) {
  if (UsesAvx512(isa)) {
    SwiGluAvx512(h, n, limit, alpha, out);
  } else {
    SwiGluPortable(h, n, limit, alpha, out);
  }
}

void Bf16RowToFloat(const uint16_t* in, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = Bf16ToFloat(in[i]);
}

}  // namespace warden::model
