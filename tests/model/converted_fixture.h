// Copies of the gpt-oss-tiny fixture stored the ways other checkpoints store gpt-oss
// (experts unquantised in the transposed Hugging Face layout, tensors in F16/F32), and a
// helper to compare engines on them. Test-only; failures are reported through gtest.
#ifndef WARDEN_TESTS_MODEL_CONVERTED_FIXTURE_H_
#define WARDEN_TESTS_MODEL_CONVERTED_FIXTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/engine.h"
#include "model/safetensors.h"

namespace warden::model::testing {

inline constexpr float kE2m1[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                    -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// Element i of an MXFP4 block (16 packed bytes, exponent byte), decoded independently of
// the engine's kernels.
float Decode(const uint8_t* packed, uint8_t exponent, int i);

// Writes, under the test's temporary directory, a copy of the fixture's Hugging Face
// checkpoint whose experts are stored as `expert_dtype` in the transposed layout of a bf16
// fine-tune ([E, H, 2I] and [E, I, H]), dequantised from the fixture's MXFP4 blocks, and
// whose other tensors (bf16 in the fixture) are stored as `other_dtype` (as a checkpoint
// saved in float32 or float16 has them). Returns the directory.
std::string WriteConvertedFixture(const std::string& name, DType expert_dtype, DType other_dtype = DType::kBF16);

// Logits at every position of `tokens` prefilled at once by an engine on `dir` (empty after
// a failure, which is reported).
std::vector<float> AllPositionLogits(const std::string& dir, WeightMode mode, Residency residency,
                                     const std::vector<int32_t>& tokens);

}  // namespace warden::model::testing

#endif  // WARDEN_TESTS_MODEL_CONVERTED_FIXTURE_H_
