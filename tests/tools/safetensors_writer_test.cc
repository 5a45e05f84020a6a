#include "tests/tools/safetensors_writer.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "model/safetensors.h"

namespace warden::scripted {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

TEST(WriteSafetensors, WrittenFileReadsBackThroughModelReader) {
  OutputTensor bf16 = ZeroTensor("a.weight", model::DType::kBF16, {2, 3});
  ASSERT_TRUE(SetFloat(&bf16, 4, 1.5f));
  OutputTensor f32 = ZeroTensor("b.bias", model::DType::kF32, {3});
  ASSERT_TRUE(SetFloat(&f32, 2, 0.1f));
  OutputTensor u8 = ZeroTensor("c.blocks", model::DType::kU8, {5});
  u8.data[3] = 77;
  const std::string path = TempPath("roundtrip.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {bf16, f32, u8}).ok());

  auto file = model::SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const auto& tensors = (*file)->tensors();
  ASSERT_EQ(tensors.size(), 3u);
  const model::TensorView& a = tensors.at("a.weight");
  EXPECT_EQ(a.dtype, model::DType::kBF16);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(a.data, bf16.data.data(), bf16.data.size()), 0);
  float b2;
  std::memcpy(&b2, tensors.at("b.bias").data + 8, 4);
  EXPECT_EQ(b2, 0.1f);
  EXPECT_EQ(tensors.at("c.blocks").data[3], 77);
  EXPECT_EQ(GetFloat(bf16, 4), 1.5f);
}

TEST(WriteSafetensors, RejectsWrongByteCountAndDuplicateNames) {
  OutputTensor bad = ZeroTensor("x", model::DType::kF32, {2});
  bad.data.pop_back();
  EXPECT_EQ(WriteSafetensors(TempPath("bad.safetensors"), {bad}).code(),
            absl::StatusCode::kInvalidArgument);
  const OutputTensor ok = ZeroTensor("x", model::DType::kF32, {2});
  EXPECT_EQ(WriteSafetensors(TempPath("dup.safetensors"), {ok, ok}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WriteSafetensors, UnwritablePathIsAnError) {
  const OutputTensor ok = ZeroTensor("x", model::DType::kF32, {2});
  EXPECT_EQ(WriteSafetensors("/nonexistent-dir/x.safetensors", {ok}).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SetFloat, IgnoresOutOfRangeIndexAndNonFloatDtypes) {
  OutputTensor t = ZeroTensor("x", model::DType::kF32, {2});
  EXPECT_FALSE(SetFloat(&t, 2, 1.0f));
  EXPECT_FALSE(SetFloat(&t, -1, 1.0f));
  OutputTensor u8 = ZeroTensor("u", model::DType::kU8, {2});
  EXPECT_FALSE(SetFloat(&u8, 0, 1.0f));
}

}  // namespace
}  // namespace warden::scripted
