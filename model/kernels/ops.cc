#include "model/kernels/ops.h"

#include <algorithm>
#include <cmath>

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

void SwiGlu(const float* h, int n, float limit, float alpha, float* out) {
  for (int i = 0; i < n; ++i) {
    const float gate = std::min(h[2 * i], limit);
    const float lin = std::clamp(h[2 * i + 1], -limit, limit);
    out[i] = gate / (1.0f + std::exp(-alpha * gate)) * (lin + 1.0f);
  }
}

void Bf16RowToFloat(const uint16_t* in, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = Bf16ToFloat(in[i]);
}

}  // namespace warden::model
