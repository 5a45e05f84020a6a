// Random inputs for the kernel tests: MXFP4 matrices with realistic exponents and float
// vectors. Header-only, test-only.
#ifndef WARDEN_TESTS_MODEL_RANDOM_INPUTS_H_
#define WARDEN_TESTS_MODEL_RANDOM_INPUTS_H_

#include <cstdint>
#include <random>
#include <vector>

#include "model/kernels/tensor_types.h"

namespace warden::model::testing {

// An MXFP4 [rows, cols] matrix of random nibbles with exponents 2^-7 .. 2^0; owns its bytes.
struct RandomMxfp4 {
  std::vector<uint8_t> blocks, scales;
  Mxfp4Matrix matrix;
  RandomMxfp4(int rows, int cols, std::mt19937& rng) {
    blocks.resize(static_cast<size_t>(rows) * cols / 2);
    scales.resize(static_cast<size_t>(rows) * cols / 32);
    for (uint8_t& b : blocks) b = static_cast<uint8_t>(rng());
    for (uint8_t& s : scales) s = static_cast<uint8_t>(120 + rng() % 8);
    matrix = Mxfp4Matrix{blocks.data(), scales.data(), rows, cols};
  }
};

// n floats uniform in [-scale, scale].
inline std::vector<float> RandomFloats(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// n bf16 bit patterns of RandomFloats(n, rng) values.
inline std::vector<uint16_t> RandomBf16(size_t n, std::mt19937& rng) {
  const std::vector<float> values = RandomFloats(n, rng);
  std::vector<uint16_t> bits(n);
  for (size_t i = 0; i < n; ++i) bits[i] = FloatToBf16(values[i]);
  return bits;
}

}  // namespace warden::model::testing

#endif  // WARDEN_TESTS_MODEL_RANDOM_INPUTS_H_
