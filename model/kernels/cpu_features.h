// Run-time CPU feature detection for choosing between portable and AVX-512 kernels.
// Thread-safe (pure functions).
#ifndef WARDEN_MODEL_KERNELS_CPU_FEATURES_H_
#define WARDEN_MODEL_KERNELS_CPU_FEATURES_H_

namespace warden::model {

// True when the CPU runs AVX-512 F/BW/VL/DQ code (the set our AVX-512 kernels use).
bool CpuHasAvx512();

// True when the CPU also runs AVX-512 VNNI (vpdpbusd), for the int8 kernels.
bool CpuHasAvx512Vnni();

// True when the CPU also runs AVX-512 VBMI (vpermb), for the MXFP4 -> bf16 expansion.
bool CpuHasAvx512Vbmi();

// True when the CPU runs AVX2 and FMA code (the AVX2 kernels, avx2_rows.h: for CPUs without
// AVX-512).
bool CpuHasAvx2Fma();

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_CPU_FEATURES_H_
