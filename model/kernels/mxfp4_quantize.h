// Float weights to MXFP4 (the format of model/kernels/mxfp4_format.h): used at load for
// checkpoints whose experts are stored unquantised (bf16 fine-tunes, "-BF16" uploads), so
// the engine keeps one expert path.
//
// Rounding (contract, tested):
// - a block's exponent is the smallest e with max|v| <= 6 * 2^e (nothing is clipped), clamped
//   to the format's range 2^-127 .. 2^127; an all-zero block gets exponent byte 0;
// - every value v / 2^e goes to the nearest e2m1 value, ties to the even code (0.25 -> 0,
//   0.75 -> 1, 1.25 -> 1, 2.5 -> 2, 5 -> 4), so one value's error is at most half a step of
//   its block's grid (0.25 * 2^e below 2, 0.5 * 2^e below 4, 1 * 2^e above);
// - values that are already MXFP4 (a dequantised MXFP4 checkpoint) come back bit for bit:
//   their block's values, divided by the chosen exponent, all lie on the e2m1 grid.
// Callers pass finite values only (a non-finite weight is a checkpoint error they report).
// Thread safety: pure function.
#ifndef WARDEN_MODEL_KERNELS_MXFP4_QUANTIZE_H_
#define WARDEN_MODEL_KERNELS_MXFP4_QUANTIZE_H_

#include <cstdint>

namespace warden::model {

// Packs 32 finite floats into 16 bytes (element 2i in the low nibble of byte i) and the
// block's exponent byte (value = e2m1 * 2^(exponent - 127)).
void QuantizeMxfp4Block(const float* values, uint8_t* packed, uint8_t* exponent);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_MXFP4_QUANTIZE_H_
