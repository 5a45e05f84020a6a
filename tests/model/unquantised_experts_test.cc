// Experts stored unquantised (bf16 fine-tunes, dequantised uploads in the Hugging Face layout)
// are quantised to MXFP4 at load: the block quantiser's rounding contract, the transposed
// layout, load errors, and the engine on a dequantised copy of the reference fixture, which
// must give the fixture's logits bit for bit (MXFP4 values survive the round trip exactly).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "model/engine.h"
#include "model/kernels/mxfp4_quantize.h"
#include "model/safetensors.h"
#include "model/unquantised_experts.h"
#include "model/weights.h"
#include "tests/model/converted_fixture.h"
#include "tests/model/reference_fixture.h"
#include "tests/tools/safetensors_writer.h"

namespace warden::model {
namespace {

using scripted::OutputTensor;

using testing::AllPositionLogits;
using testing::Decode;
using testing::kE2m1;
using testing::WriteConvertedFixture;

struct Block {
  uint8_t packed[16] = {};
  uint8_t exponent = 0;
};

Block Quantise(const std::vector<float>& values) {
  Block block;
  QuantizeMxfp4Block(values.data(), block.packed, &block.exponent);
  return block;
}

TEST(QuantizeMxfp4Block, MidpointsGoToTheEvenCode) {
  // Exponent 0 (the block's largest magnitude is 6); every midpoint between grid values,
  // both signs, and values on the grid.
  const std::vector<float> in = {6.0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, -0.25f, -0.75f, -1.25f,
                                 -1.75f, -2.5f, -3.5f, -5.0f, 0.5f, 1.5f, 3.0f, -6.0f, 0.26f, 0.74f, 4.9f,
                                 5.1f, 0.0f, -0.0f, 0.1f, 1.0f, 2.0f, 4.0f, -4.0f, -0.5f, -1.0f};
  const std::vector<float> expected = {6, 0, 1, 1, 2, 2, 4, 4, -0.0f, -1, -1, -2, -2, -4, -4, 0.5f, 1.5f, 3, -6, 0.5f,
                                       0.5f, 4, 6, 0, 0, 0, 1, 2, 4, -4, -0.5f, -1};
  const Block block = Quantise(in);
  EXPECT_EQ(block.exponent, 127);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(Decode(block.packed, block.exponent, i), expected[i]) << "value " << in[i];
}

TEST(QuantizeMxfp4Block, ExponentIsTheSmallestThatHoldsTheLargestMagnitude) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_int_distribution<int> magnitude(-60, 60);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<float> in(32);
    const int k = magnitude(rng);
    for (float& v : in) v = std::ldexp(unit(rng), k + (trial % 3 == 0 ? magnitude(rng) / 10 : 0));
    float amax = 0;
    for (float v : in) amax = std::max(amax, std::fabs(v));
    const Block block = Quantise(in);
    const int e = block.exponent - 127;
    ASSERT_LE(amax, std::ldexp(6.0f, e)) << "trial " << trial;
    ASSERT_GT(amax, std::ldexp(6.0f, e - 1)) << "trial " << trial;
    for (int i = 0; i < 32; ++i) {
      // Half a grid step where the value lies: 0.25 below 2, 0.5 below 4, 1 above (times 2^e).
      const float x = std::fabs(in[i]) / std::ldexp(1.0f, e);
      const float half_step = std::ldexp(x < 2.0f ? 0.25f : x < 4.0f ? 0.5f : 1.0f, e);
      EXPECT_LE(std::fabs(Decode(block.packed, block.exponent, i) - in[i]), half_step)
          << "trial " << trial << " value " << in[i];
    }
  }
}

TEST(QuantizeMxfp4Block, Mxfp4ValuesComeBackExactly) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 5000; ++trial) {
    uint8_t packed[16];
    for (uint8_t& byte : packed) byte = static_cast<uint8_t>(rng());
    // The whole exponent range whose values stay finite floats (6 * 2^126 is not one).
    const uint8_t exponent = trial < 16 ? static_cast<uint8_t>(trial) : static_cast<uint8_t>(rng() % 253);
    std::vector<float> values(32);
    for (int i = 0; i < 32; ++i) values[i] = Decode(packed, exponent, i);
    const Block block = Quantise(values);
    for (int i = 0; i < 32; ++i) {
      ASSERT_EQ(Decode(block.packed, block.exponent, i), values[i] == 0 ? 0.0f : values[i])
          << "trial " << trial << " element " << i << " exponent " << int{exponent};
    }
  }
}

TEST(QuantizeMxfp4Block, ZeroAndTinyBlocks) {
  const Block zero = Quantise(std::vector<float>(32, 0.0f));
  EXPECT_EQ(zero.exponent, 0);
  for (uint8_t byte : zero.packed) EXPECT_EQ(byte, 0);
  // Far below the smallest scale 2^-127: the exponent clamps, values round to the grid.
  std::vector<float> tiny(32, std::numeric_limits<float>::denorm_min());
  tiny[0] = std::ldexp(1.0f, -128);
  const Block block = Quantise(tiny);
  EXPECT_EQ(block.exponent, 0);
  EXPECT_EQ(Decode(block.packed, block.exponent, 0), std::ldexp(1.0f, -128));
  EXPECT_EQ(Decode(block.packed, block.exponent, 1), 0.0f);
}

TEST(Fp16ToFloat, MatchesTheCompilersConversionForEveryValue) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const uint16_t half_bits = static_cast<uint16_t>(bits);
    _Float16 half;
    std::memcpy(&half, &half_bits, 2);
    const float expected = static_cast<float>(half);
    const float actual = Fp16ToFloat(half_bits);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(actual)) << bits;
    } else {
      uint32_t a, b;
      std::memcpy(&a, &actual, 4);
      std::memcpy(&b, &expected, 4);
      ASSERT_EQ(a, b) << "bits " << bits;  // bit for bit, signed zeros included
    }
  }
}

// A tensor [experts, cols, rows] of the given dtype holding `value(e, c, r)`.
OutputTensor Transposed(const std::string& name, DType dtype, int experts, int cols, int rows,
                        float (*value)(int, int, int)) {
  OutputTensor t = scripted::ZeroTensor(name, dtype, {experts, cols, rows});
  for (int e = 0; e < experts; ++e) {
    for (int c = 0; c < cols; ++c) {
      for (int r = 0; r < rows; ++r) {
        EXPECT_TRUE(scripted::SetFloat(&t, (static_cast<int64_t>(e) * cols + c) * rows + r, value(e, c, r)));
      }
    }
  }
  return t;
}

// Distinct values on the e2m1 grid, so quantisation is exact and a misplaced one shows.
float GridValue(int e, int c, int r) { return std::ldexp(kE2m1[(e * 7 + c * 3 + r * 5) % 16], e); }

TensorView ViewOf(const OutputTensor& t) {
  TensorView view;
  view.name = t.name;
  view.file = "memory";
  view.dtype = t.dtype;
  view.dtype_name = DTypeName(t.dtype);
  view.shape = t.shape;
  view.data = t.data.data();
  view.size_bytes = t.data.size();
  return view;
}

TEST(QuantiseTransposedExperts, EveryWeightLandsAtItsRowAndColumn) {
  for (DType dtype : {DType::kBF16, DType::kF32}) {
    const int experts = 3, rows = 5, cols = 64;
    const OutputTensor t = Transposed("w", dtype, experts, cols, rows, GridValue);
    auto quantised = QuantiseTransposedExperts(ViewOf(t), experts, rows, cols);
    ASSERT_TRUE(quantised.ok()) << quantised.status();
    ASSERT_EQ(quantised->matrices.size(), 3u);
    for (int e = 0; e < experts; ++e) {
      const Mxfp4Matrix& m = quantised->matrices[e];
      ASSERT_EQ(m.rows, rows);
      ASSERT_EQ(m.cols, cols);
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          const int block = r * (cols / 32) + c / 32;
          EXPECT_EQ(Decode(m.blocks + 16 * block, m.scales[block], c % 32), GridValue(e, c, r) == 0 ? 0.0f : GridValue(e, c, r))
              << DTypeName(dtype) << " e " << e << " r " << r << " c " << c;
        }
      }
    }
  }
}

TEST(QuantiseTransposedExperts, RefusesWrongShapeDtypeAndNonFiniteWeights) {
  const OutputTensor good = Transposed("experts.w", DType::kBF16, 2, 32, 4, GridValue);
  auto wrong_shape = QuantiseTransposedExperts(ViewOf(good), 2, 4, 64);
  ASSERT_FALSE(wrong_shape.ok());
  EXPECT_EQ(wrong_shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(wrong_shape.status().message(),
                                "'experts.w' has shape [2, 32, 4], the config needs [2, 64, 4]"))
      << wrong_shape.status();

  OutputTensor u8 = good;
  u8.dtype = DType::kU8;
  u8.data.resize(u8.data.size() / 2);
  auto wrong_dtype = QuantiseTransposedExperts(ViewOf(u8), 2, 4, 32);
  ASSERT_FALSE(wrong_dtype.ok());
  EXPECT_TRUE(absl::StrContains(wrong_dtype.status().message(), "expected BF16, F16 or F32")) << wrong_dtype.status();

  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    OutputTensor poisoned = good;
    ASSERT_TRUE(scripted::SetFloat(&poisoned, (1 * 32 + 17) * 4 + 2, bad));
    auto refused = QuantiseTransposedExperts(ViewOf(poisoned), 2, 4, 32);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "non-finite value at [1, 17, 2]")) << refused.status();
  }

  const OutputTensor odd = Transposed("experts.odd", DType::kBF16, 1, 40, 2, GridValue);
  auto not_blocks = QuantiseTransposedExperts(ViewOf(odd), 1, 2, 40);
  ASSERT_FALSE(not_blocks.ok());
  EXPECT_TRUE(absl::StrContains(not_blocks.status().message(), "not a multiple of 32")) << not_blocks.status();
}

TEST(UnquantisedExpertsCheckpoint, DequantisedFixtureGivesTheFixtureLogitsBitForBit) {
  auto reference = testing::LoadReference();
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<int32_t>& tokens = reference->sequences.back().tokens;  // 41 tokens
  for (DType dtype : {DType::kBF16, DType::kF32}) {
    const std::string dir = WriteConvertedFixture(std::string("dequantised_") + DTypeName(dtype), dtype);
    for (WeightMode mode : {WeightMode::kExact, WeightMode::kFast}) {
      const std::vector<float> expected = AllPositionLogits(testing::kTinyDir, mode, Residency::kMapped, tokens);
      ASSERT_FALSE(expected.empty());
      for (Residency residency : {Residency::kMapped, Residency::kResident}) {
        EXPECT_EQ(AllPositionLogits(dir, mode, residency, tokens), expected)
            << DTypeName(dtype) << " " << WeightModeName(mode) << " " << ResidencyName(residency);
      }
    }
    const auto cmp = testing::CompareLogits(AllPositionLogits(dir, WeightMode::kExact, Residency::kMapped, tokens),
                                            reference->sequences.back(), reference->vocab);
    EXPECT_LE(cmp.max_abs_diff, 0.30);
    EXPECT_TRUE(cmp.argmax_mismatches.empty());
  }
}

// A checkpoint saved in float32 (as Hugging Face transformers saves a model built in
// float32): every dense matrix is rounded back to the fixture's bf16 and the experts are
// quantised, so the logits are the fixture's bit for bit.
TEST(UnquantisedExpertsCheckpoint, Float32CheckpointGivesTheFixtureLogitsBitForBit) {
  auto reference = testing::LoadReference();
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<int32_t>& tokens = reference->sequences.back().tokens;
  const std::string dir = WriteConvertedFixture("float32_everything", DType::kF32, DType::kF32);
  for (WeightMode mode : {WeightMode::kExact, WeightMode::kFast}) {
    const std::vector<float> expected = AllPositionLogits(testing::kTinyDir, mode, Residency::kMapped, tokens);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(AllPositionLogits(dir, mode, Residency::kResident, tokens), expected) << WeightModeName(mode);
  }
}

// Float16 holds the fixture's bf16 values exactly only within its range; the logits stay
// within the fixture README's bounds.
TEST(UnquantisedExpertsCheckpoint, Float16CheckpointMatchesTheReference) {
  auto reference = testing::LoadReference();
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::string dir = WriteConvertedFixture("float16_everything", DType::kF16, DType::kF16);
  const auto cmp =
      testing::CompareLogits(AllPositionLogits(dir, WeightMode::kExact, Residency::kMapped, reference->sequences.back().tokens),
                             reference->sequences.back(), reference->vocab);
  EXPECT_LE(cmp.max_abs_diff, 0.30);
  EXPECT_LE(cmp.mean_abs_diff, 0.03);
  EXPECT_TRUE(cmp.argmax_mismatches.empty());
}

TEST(UnquantisedExpertsCheckpoint, WeightsSayTheyQuantisedAndStayMapped) {
  const std::string dir = WriteConvertedFixture("dequantised_flag", DType::kBF16);
  auto config = LoadConfig(dir);
  ASSERT_TRUE(config.ok()) << config.status();
  auto weights = ModelWeights::Load(dir, *config, Residency::kResident);
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_TRUE((*weights)->experts_quantised_at_load());
  auto fixture = ModelWeights::Load(testing::kTinyDir, *config, Residency::kResident);
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  EXPECT_FALSE((*fixture)->experts_quantised_at_load());
}

// Weights that are not on the MXFP4 grid (a real bf16 fine-tune): the load quantises them,
// and the model still computes close to the unquantised weights' MXFP4 neighbours.
TEST(UnquantisedExpertsCheckpoint, OffGridWeightsLoadAndStayCloseToTheFixture) {
  const std::string dir = WriteConvertedFixture("dequantised_offgrid", DType::kBF16);
  auto file = SafetensorsFile::Open(dir + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<OutputTensor> out;
  for (const auto& [name, view] : (*file)->tensors()) {
    OutputTensor t{name, view.dtype, view.shape, std::vector<uint8_t>(view.data, view.data + view.size_bytes)};
    if (absl::EndsWith(name, "gate_up_proj") || absl::EndsWith(name, "down_proj")) {
      for (int64_t i = 0; i < t.NumElements(); ++i) {
        ASSERT_TRUE(scripted::SetFloat(&t, i, scripted::GetFloat(t, i) * (1.0f + 0.03f * ((i % 7) - 3) / 3.0f)));
      }
    }
    out.push_back(std::move(t));
  }
  file->reset();
  ASSERT_TRUE(scripted::WriteSafetensors(dir + "/model.safetensors", out).ok());
  auto reference = testing::LoadReference();
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<int32_t>& tokens = reference->sequences.back().tokens;
  const std::vector<float> logits = AllPositionLogits(dir, WeightMode::kExact, Residency::kMapped, tokens);
  const std::vector<float> fixture = AllPositionLogits(testing::kTinyDir, WeightMode::kExact, Residency::kMapped, tokens);
  ASSERT_EQ(logits.size(), fixture.size());
  EXPECT_NE(logits, fixture);  // the perturbation moved some weights to other grid points
  const auto cmp = testing::CompareLogits(logits, reference->sequences.back(), reference->vocab);
  EXPECT_LE(cmp.mean_abs_diff, 0.5) << "max " << cmp.max_abs_diff;
}

}  // namespace
}  // namespace warden::model
