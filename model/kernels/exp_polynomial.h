// The constants of the vector exp that the softmax kernels share (internal to
// model/kernels; header-only, no intrinsics): exp(x) = 2^k * e^r with k = round(x * log2 e),
// r = x - k * ln2 in two parts (high part exact in float), and e^r from a degree-7 Taylor
// polynomial evaluated by Horner's rule (relative error < 1e-7 before float rounding for
// |r| <= ln2/2). softmax_avx512.h (AVX-512) and attention_avx2.cc (AVX2) evaluate it with the
// same constants in the same order.
#ifndef WARDEN_MODEL_KERNELS_EXP_POLYNOMIAL_H_
#define WARDEN_MODEL_KERNELS_EXP_POLYNOMIAL_H_

namespace warden::model::exp_polynomial {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2High = 0.693145751953125f;
inline constexpr float kLn2Low = 1.428606765330187e-06f;

// Horner's rule from the highest power: p = kTaylor[0]; p = p * r + kTaylor[i] for i = 1..7.
inline constexpr int kTaylorTerms = 8;
inline constexpr float kTaylor[kTaylorTerms] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                                1.0f / 6.0f,    0.5f,          1.0f,          1.0f};

}  // namespace warden::model::exp_polynomial

#endif  // WARDEN_MODEL_KERNELS_EXP_POLYNOMIAL_H_
