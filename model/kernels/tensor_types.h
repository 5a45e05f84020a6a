// Non-owning views of weight matrices as the kernels consume them. The bytes usually live
// in a memory-mapped checkpoint; whoever builds a view keeps those bytes alive.
#ifndef WARDEN_MODEL_KERNELS_TENSOR_TYPES_H_
#define WARDEN_MODEL_KERNELS_TENSOR_TYPES_H_

#include <cstdint>

namespace warden::model {

// Row-major [rows, cols] matrix of bfloat16 values (raw 16-bit patterns), i.e. a linear
// layer's weight stored [out, in].
struct Bf16Matrix {
  const uint16_t* data = nullptr;
  int rows = 0;
  int cols = 0;
};

// MXFP4 matrix [rows, cols]: each row is cols/32 blocks of 16 bytes (two e2m1 values per
// byte, element 2i in the low nibble of byte i) plus one exponent byte per block.
struct Mxfp4Matrix {
  const uint8_t* blocks = nullptr;  // [rows, cols/32, 16]
  const uint8_t* scales = nullptr;  // [rows, cols/32]
  int rows = 0;
  int cols = 0;  // a multiple of 32
};

inline float Bf16ToFloat(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float out;
  __builtin_memcpy(&out, &wide, sizeof(out));
  return out;
}

// IEEE half precision to float, exactly (subnormals, infinities and NaN included).
inline float Fp16ToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu, mantissa = bits & 0x3ffu;
  uint32_t wide;
  if (exponent == 0x1f) {
    wide = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    wide = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {  // zero or subnormal: mantissa * 2^-24, exact in float
    float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    __builtin_memcpy(&wide, &magnitude, sizeof(wide));
    wide |= sign;
  }
  float out;
  __builtin_memcpy(&out, &wide, sizeof(out));
  return out;
}

// Round-to-nearest-even conversion (NaN stays NaN).
inline uint16_t FloatToBf16(float value) {
  uint32_t bits;
  __builtin_memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_TENSOR_TYPES_H_
