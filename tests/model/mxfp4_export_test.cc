// `oss quantize-experts` (model/mxfp4_export.h): the MXFP4 copy of a checkpoint with
// unquantised experts loads without quantising and computes what loading the source computes.
#include "model/mxfp4_export.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/file.h"
#include "model/safetensors.h"
#include "model/weights.h"
#include "nlohmann/json.hpp"
#include "tests/model/converted_fixture.h"
#include "tests/model/reference_fixture.h"

namespace warden::model {
namespace {

using testing::AllPositionLogits;
using testing::WriteConvertedFixture;

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::vector<int32_t> Tokens() {
  auto reference = testing::LoadReference();
  EXPECT_TRUE(reference.ok()) << reference.status();
  return reference.ok() ? reference->sequences.back().tokens : std::vector<int32_t>{};
}

TEST(Mxfp4Export, CopyLoadsWithoutQuantisingAndGivesTheSameLogits) {
  for (DType dtype : {DType::kBF16, DType::kF32}) {
    const std::string source = WriteConvertedFixture(std::string("export_source_") + DTypeName(dtype), dtype, dtype);
    std::ofstream(source + "/tokenizer.json") << "{\"stand-in\": true}";
    const std::string out = TempPath(std::string("export_out_") + DTypeName(dtype));
    std::filesystem::remove_all(out);
    ExportSummary summary;
    ASSERT_TRUE(WriteMxfp4Checkpoint(source, out, &summary).ok());
    EXPECT_EQ(summary.quantised_tensors, 8);  // 4 layers x (gate_up_proj, down_proj)
    EXPECT_EQ(summary.copied_files, 1);
    EXPECT_GT(summary.copied_tensors, 0);
    EXPECT_EQ(summary.bytes_written, static_cast<long long>(std::filesystem::file_size(out + "/model.safetensors")));
    EXPECT_FALSE(std::filesystem::exists(out + "/model.safetensors.partial"));

    const auto source_storage = InspectCheckpointStorage(source);
    ASSERT_TRUE(source_storage.ok()) << source_storage.status();
    EXPECT_TRUE(source_storage->unquantised_experts);
    EXPECT_TRUE(source_storage->copies_weights);
    const auto storage = InspectCheckpointStorage(out);
    ASSERT_TRUE(storage.ok()) << storage.status();
    EXPECT_FALSE(storage->unquantised_experts);
    EXPECT_FALSE(storage->copies_weights);  // F32 matrices were rounded to BF16 in the copy
    auto archive = SafetensorsArchive::OpenDirectory(out);
    ASSERT_TRUE(archive.ok()) << archive.status();
    EXPECT_TRUE((*archive)->Contains("model.layers.3.mlp.experts.down_proj_blocks"));
    EXPECT_TRUE((*archive)->Contains("model.layers.3.mlp.experts.down_proj_scales"));
    EXPECT_FALSE((*archive)->Contains("model.layers.3.mlp.experts.down_proj"));
    const auto config = ReadFile(out + "/config.json");
    ASSERT_TRUE(config.ok());
    EXPECT_EQ(nlohmann::json::parse(*config)["quantization_config"]["quant_method"], "mxfp4");
    const auto tokenizer = ReadFile(out + "/tokenizer.json");
    ASSERT_TRUE(tokenizer.ok());
    EXPECT_EQ(*tokenizer, "{\"stand-in\": true}");

    const std::vector<int32_t> tokens = Tokens();
    const std::vector<float> expected = AllPositionLogits(source, WeightMode::kExact, Residency::kMapped, tokens);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(AllPositionLogits(out, WeightMode::kExact, Residency::kResident, tokens), expected) << DTypeName(dtype);
    // And both are the fixture's (the experts were MXFP4 values to begin with).
    EXPECT_EQ(AllPositionLogits(testing::kTinyDir, WeightMode::kExact, Residency::kMapped, tokens), expected);
  }
}

TEST(Mxfp4Export, RefusesWhatItCannotOrShouldNotWrite) {
  const std::string source = WriteConvertedFixture("export_refusals", DType::kBF16);
  // Already MXFP4.
  const absl::Status mxfp4 = WriteMxfp4Checkpoint(testing::kTinyDir, TempPath("export_of_mxfp4"));
  EXPECT_EQ(mxfp4.code(), absl::StatusCode::kFailedPrecondition) << mxfp4;
  EXPECT_TRUE(absl::StrContains(mxfp4.message(), "already MXFP4")) << mxfp4;
  // Into itself.
  const absl::Status itself = WriteMxfp4Checkpoint(source, source + "/.");
  EXPECT_EQ(itself.code(), absl::StatusCode::kInvalidArgument) << itself;
  // Over another checkpoint.
  const std::string occupied = TempPath("export_occupied");
  std::filesystem::create_directories(occupied);
  std::ofstream(occupied + "/model.safetensors") << "keep me";
  const absl::Status over = WriteMxfp4Checkpoint(source, occupied);
  EXPECT_EQ(over.code(), absl::StatusCode::kFailedPrecondition) << over;
  EXPECT_EQ(*ReadFile(occupied + "/model.safetensors"), "keep me");
}

TEST(Mxfp4Export, NonFiniteWeightLeavesNoPartialCheckpoint) {
  const std::string source = WriteConvertedFixture("export_nan_source", DType::kF32, DType::kBF16);
  // Poison one expert weight in place (an F32 tensor): its bytes start at 8 + header size
  // + its first data offset.
  {
    const std::string path = source + "/model.safetensors";
    const std::string bytes = *ReadFile(path);
    uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), 8);
    const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
    const uint64_t begin = header["model.layers.2.mlp.experts.gate_up_proj"]["data_offsets"][0];
    std::fstream poke(path, std::ios::in | std::ios::out | std::ios::binary);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    poke.seekp(static_cast<std::streamoff>(8 + header_size + begin + 4 * 100));
    poke.write(reinterpret_cast<const char*>(&nan), 4);
    ASSERT_TRUE(poke.good());
  }
  const std::string out = TempPath("export_nan_out");
  std::filesystem::remove_all(out);
  const absl::Status status = WriteMxfp4Checkpoint(source, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "model.layers.2.mlp.experts.gate_up_proj")) << status;
  EXPECT_FALSE(std::filesystem::exists(out + "/model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(out + "/model.safetensors.partial"));
}

}  // namespace
}  // namespace warden::model
