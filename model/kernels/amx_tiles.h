// Pieces shared by the AMX tile kernels (amx_dense.cc, int8_dense_amx.cc): the tile
// configuration's memory layout and the CPUID checks. Internal to model/kernels;
// header-only, thread-safe (pure functions and plain data).
#ifndef WARDEN_MODEL_KERNELS_AMX_TILES_H_
#define WARDEN_MODEL_KERNELS_AMX_TILES_H_

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace warden::model::amx_tiles {

// ldtilecfg's 64-byte operand (palette 1): per tile register, bytes per row and rows.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// CPUID.(EAX=7, ECX=0):EDX bits of the AMX features.
inline constexpr int kAmxBf16Bit = 22;
inline constexpr int kAmxTileBit = 24;
inline constexpr int kAmxInt8Bit = 25;

// True when the CPU has AMX-TILE and the feature at EDX bit `feature_bit`. (Linux must still
// grant the tile state: TileStateGranted.)
inline bool CpuHasAmx(int feature_bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return ((edx >> kAmxTileBit) & 1) && ((edx >> feature_bit) & 1);
}

// Whether Linux gave this process the 8 KB tile state, which it keeps out of a process
// until asked (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, values from
// arch/x86/include/uapi/asm/prctl.h). Asks once per process; call only where CpuHasAmx.
inline bool TileStateGranted() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtileData = 18;
  static const bool granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtileData) == 0;
  return granted;
}

}  // namespace warden::model::amx_tiles

#endif  // WARDEN_MODEL_KERNELS_AMX_TILES_H_
