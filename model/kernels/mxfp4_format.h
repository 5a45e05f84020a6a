// The MXFP4 format as the kernels read it (internal to model/kernels; header-only): blocks of
// 32 e2m1 values in 16 bytes (element 2i in the low nibble of byte i) with one exponent
// byte per block, value = e2m1 * 2^(exponent - 127).
#ifndef WARDEN_MODEL_KERNELS_MXFP4_FORMAT_H_
#define WARDEN_MODEL_KERNELS_MXFP4_FORMAT_H_

#include <cmath>

namespace warden::model::mxfp4 {

inline constexpr int kBlock = 32;
inline constexpr int kBlockBytes = 16;
// The 16 e2m1 values by nibble.
inline constexpr float kFp4Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                         -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// 2^(s - 127) for every exponent byte s. Callers in hot loops take the pointer once, outside
// the loop: the function-local static's guard inside a loop made GCC spill vector registers.
inline const float* ScaleTable() {
  struct Table {
    float value[256];
    Table() {
      for (int s = 0; s < 256; ++s) value[s] = std::ldexp(1.0f, s - 127);
    }
  };
  static const Table table;
  return table.value;
}

// For every exponent byte s, the 16 e2m1 values times ScaleTable()[s] (the same float
// products as a kernel multiplying by the scale: exact, +-inf past float's range, and NaN
// for a zero at s = 255, where the scale is inf), 16 floats (one cache line) per s at
// ScaledValueTables() + 16 * s, 64-byte aligned. A kernel loads its block's line instead of
// multiplying by the scale. Same caveat as ScaleTable about taking the pointer outside hot
// loops.
inline const float* ScaledValueTables() {
  struct Tables {
    alignas(64) float value[256 * 16];
    Tables() {
      const float* scale = ScaleTable();
      for (int s = 0; s < 256; ++s) {
        for (int n = 0; n < 16; ++n) value[s * 16 + n] = kFp4Values[n] * scale[s];
      }
    }
  };
  static const Tables tables;
  return tables.value;
}

}  // namespace warden::model::mxfp4

#endif  // WARDEN_MODEL_KERNELS_MXFP4_FORMAT_H_
