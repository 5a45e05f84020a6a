#include "tests/model/converted_fixture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "tests/model/reference_fixture.h"
#include "tests/tools/safetensors_writer.h"

namespace warden::model::testing {

using scripted::OutputTensor;

float Decode(const uint8_t* packed, uint8_t exponent, int i) {
  const int nibble = (packed[i / 2] >> (4 * (i % 2))) & 15;
  return std::ldexp(kE2m1[nibble], exponent - 127);
}

std::string WriteConvertedFixture(const std::string& name, DType expert_dtype, DType other_dtype) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::string(kTinyDir) + "/config.json", dir + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  auto file = SafetensorsFile::Open(std::string(kTinyDir) + "/model.safetensors");
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return dir;
  std::vector<OutputTensor> out;
  for (const auto& [tensor_name, view] : (*file)->tensors()) {
    if (absl::EndsWith(tensor_name, "_scales")) continue;
    if (!absl::EndsWith(tensor_name, "_blocks")) {
      OutputTensor t{tensor_name, view.dtype, view.shape, std::vector<uint8_t>(view.data, view.data + view.size_bytes)};
      if (view.dtype == DType::kBF16 && other_dtype != DType::kBF16) {
        OutputTensor converted = scripted::ZeroTensor(tensor_name, other_dtype, view.shape);
        for (int64_t i = 0; i < t.NumElements(); ++i) {
          EXPECT_TRUE(scripted::SetFloat(&converted, i, scripted::GetFloat(t, i)));
        }
        t = std::move(converted);
      }
      out.push_back(std::move(t));
      continue;
    }
    const TensorView& scales = (*file)->tensors().at(tensor_name.substr(0, tensor_name.size() - 7) + "_scales");
    const int experts = view.shape[0], rows = view.shape[1], cols = view.shape[2] * 32;
    OutputTensor t =
        scripted::ZeroTensor(tensor_name.substr(0, tensor_name.size() - 7), expert_dtype, {experts, cols, rows});
    for (int e = 0; e < experts; ++e) {
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          const size_t block = (static_cast<size_t>(e) * rows + r) * (cols / 32) + c / 32;
          const float value = Decode(view.data + 16 * block, scales.data[block], c % 32);
          EXPECT_TRUE(scripted::SetFloat(&t, (static_cast<int64_t>(e) * cols + c) * rows + r, value));
        }
      }
    }
    out.push_back(std::move(t));
  }
  EXPECT_TRUE(scripted::WriteSafetensors(dir + "/model.safetensors", out).ok());
  return dir;
}

std::vector<float> AllPositionLogits(const std::string& dir, WeightMode mode, Residency residency,
                                     const std::vector<int32_t>& tokens) {
  LoadOptions options;
  options.model_dir = dir;
  options.threads = 2;
  options.weight_mode = mode;
  options.weight_memory = residency;
  auto engine = Engine::Load(options);
  EXPECT_TRUE(engine.ok()) << dir << ": " << engine.status();
  if (!engine.ok()) return {};
  const SequenceId seq = (*engine)->CreateSequence();
  auto logits = (*engine)->Prefill(seq, tokens, /*all_positions=*/true);
  EXPECT_TRUE(logits.ok()) << logits.status();
  return logits.ok() ? *logits : std::vector<float>{};
}

}  // namespace warden::model::testing
