// Small element-wise and row-wise helpers of the gpt-oss forward pass, in float32.
// Thread-safe (pure functions on caller-owned buffers).
#ifndef WARDEN_MODEL_KERNELS_OPS_H_
#define WARDEN_MODEL_KERNELS_OPS_H_

#include <cstdint>

#include "model/kernels/mxfp4.h"  // KernelIsa

namespace warden::model {

// out = x * rsqrt(mean(x^2) + eps) * weight, over n values. out may alias x.
void RmsNorm(const float* x, const float* weight, int n, float eps, float* out);

// Rotates one head of width d (half-split convention: x1 = v[0:d/2], x2 = v[d/2:d]):
// o1 = x1*cos - x2*sin, o2 = x2*cos + x1*sin. cos/sin hold d/2 values.
void ApplyRope(float* v, const float* cos, const float* sin, int d);

// In-place softmax over n values (max-subtracted).
void Softmax(float* v, int n);

// gpt-oss SwiGLU on interleaved h (2n values, even = gate, odd = linear):
// out[i] = g * sigmoid(alpha * g) * (l + 1), g = min(h[2i], limit), l = clamp(h[2i+1], ±limit).
// The AVX-512 code (vectorised exp, softmax_avx512.h) agrees with the portable one to a few
// float32 roundings; a NaN in h gives NaN in both.
void SwiGlu(const float* h, int n, float limit, float alpha, float* out, KernelIsa isa = KernelIsa::kBest);

// Writes n bf16 values widened to float32.
void Bf16RowToFloat(const uint16_t* in, int n, float* out);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_OPS_H_
