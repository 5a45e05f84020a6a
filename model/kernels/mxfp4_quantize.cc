#include "model/kernels/mxfp4_quantize.h"

#include <algorithm>
#include <cmath>

namespace warden::model {
namespace {

// The e2m1 code (0..7) of the magnitude nearest to x in [0, 6], ties to the even code:
// each comparison is a midpoint between two neighbouring values, strict where the lower
// neighbour's code is even (a tie stays down) and inclusive where it is odd (a tie goes up).
int NearestMagnitudeCode(float x) {
  return (x > 0.25f) + (x >= 0.75f) + (x > 1.25f) + (x >= 1.75f) + (x > 2.5f) + (x >= 3.5f) + (x > 5.0f);
}

// The smallest e with amax <= 6 * 2^e, clamped to the exponent byte's range.
int BlockExponent(float amax) {
  int k = 0;
  const float mantissa = std::frexp(amax / 6.0f, &k);  // amax / 6 = mantissa * 2^k, mantissa in [0.5, 1)
  const int e = mantissa == 0.5f ? k - 1 : k;
  return std::clamp(e, -127, 127);
}

}  // namespace

void QuantizeMxfp4Block(const float* values, uint8_t* packed, uint8_t* exponent) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(values[i]));
  if (amax == 0.0f) {
    std::fill(packed, packed + 16, uint8_t{0});
    *exponent = 0;
    return;
  }
  const int e = BlockExponent(amax);
  *exponent = static_cast<uint8_t>(e + 127);
  // Multiplying by a power of two is exact unless the product is subnormal, which only
  // happens to values far below the block's grid step (they round to zero either way).
  const float inverse_scale = std::ldexp(1.0f, -e);
  uint8_t nibbles[32];
  for (int i = 0; i < 32; ++i) {
    const int code = NearestMagnitudeCode(std::fabs(values[i]) * inverse_scale);
    const int sign = (values[i] < 0.0f && code != 0) ? 8 : 0;  // no negative zero
    nibbles[i] = static_cast<uint8_t>(code | sign);
  }
  for (int i = 0; i < 16; ++i) packed[i] = static_cast<uint8_t>(nibbles[2 * i] | (nibbles[2 * i + 1] << 4));
}

}  // namespace warden::model
