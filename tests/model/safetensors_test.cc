// Hostile and damaged checkpoints: each yields a clear error naming the file and tensor,
// never a crash.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "model/safetensors.h"
#include "model/weights.h"

namespace warden::model {
namespace {

constexpr char kTinyDir[] = "tests/data/gpt-oss-tiny";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string LengthPrefix(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out;
}

std::string SafetensorsBytes(const std::string& header, const std::string& data) {
  return LengthPrefix(header.size()) + header + data;
}

// A scratch checkpoint directory holding the tiny fixture's config and a model file whose
// header was rewritten by `edit` (tensor data kept as is).
class CheckpointDir {
 public:
  explicit CheckpointDir(const std::string& name) : dir_(::testing::TempDir() + "/" + name) {
    std::remove((dir_ + "/model.safetensors").c_str());
    ::mkdir(dir_.c_str(), 0755);
    WriteAll(dir_ + "/config.json", ReadAll(std::string(kTinyDir) + "/config.json"));
    const std::string original = ReadAll(std::string(kTinyDir) + "/model.safetensors");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(original[i]);
    header_ = nlohmann::json::parse(original.substr(8, n));
    data_ = original.substr(8 + n);
  }
  void Write(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json header = header_;
    edit(header);
    WriteAll(dir_ + "/model.safetensors", SafetensorsBytes(header.dump(), data_));
  }
  const std::string& dir() const { return dir_; }
  std::string file() const { return dir_ + "/model.safetensors"; }
  const std::string& data() const { return data_; }

 private:
  std::string dir_;
  nlohmann::json header_;
  std::string data_;
};

// Every damaged file must fail the same way whether it is mapped or read into memory.
absl::Status OpenFile(const std::string& path) {
  const absl::Status mapped = SafetensorsFile::Open(path, Residency::kMapped).status();
  EXPECT_EQ(mapped, SafetensorsFile::Open(path, Residency::kResident).status()) << path;
  return mapped;
}

absl::Status LoadWeights(const std::string& dir) {
  auto config = LoadConfig(dir);
  if (!config.ok()) return config.status();
  const absl::Status mapped = ModelWeights::Load(dir, *config, Residency::kMapped).status();
  EXPECT_EQ(mapped, ModelWeights::Load(dir, *config, Residency::kResident).status()) << dir;
  return mapped;
}

void ExpectErrorMentions(const absl::Status& status, absl::StatusCode code,
                         std::initializer_list<std::string> words) {
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& word : words) {
    EXPECT_NE(std::string(status.message()).find(word), std::string::npos)
        << "'" << word << "' missing from: " << status;
  }
}

TEST(Safetensors, OpensFixtureAndReportsShapesAndDtypes) {
  auto file = SafetensorsFile::Open(std::string(kTinyDir) + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  const TensorView& blocks = (*file)->tensors().at("model.layers.0.mlp.experts.down_proj_blocks");
  EXPECT_EQ(blocks.dtype, DType::kU8);
  EXPECT_EQ(blocks.shape, (std::vector<int64_t>{8, 64, 2, 16}));
  EXPECT_EQ(blocks.size_bytes, 16384u);
}

std::string TensorBytes(const TensorView& view) {
  return std::string(reinterpret_cast<const char*>(view.data), view.size_bytes);
}

// Both residencies expose the same tensors with the same bytes; the resident copy of a
// file past the huge-page threshold sits in a huge-page allocation (2 MB aligned) with its
// tensor data on a cache line.
TEST(Safetensors, ResidentAndMappedFilesHoldTheSameTensors) {
  CheckpointDir dir("resident");
  // 9 MB + 1: read by two threads in the resident form, split at an odd offset.
  std::string big(9u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 2654435761u >> 13);
  const std::string header =
      R"({"big": {"dtype": "U8", "shape": [9437184], "data_offsets": [0, 9437184]},)"
      R"( "small": {"dtype": "U8", "shape": [5], "data_offsets": [9437184, 9437189]}})";
  WriteAll(dir.file(), SafetensorsBytes(header, big + "vwxyz"));
  for (const std::string& path : {dir.file(), std::string(kTinyDir) + "/model.safetensors"}) {
    auto mapped = SafetensorsFile::Open(path, Residency::kMapped);
    auto resident = SafetensorsFile::Open(path, Residency::kResident);
    ASSERT_TRUE(mapped.ok()) << mapped.status();
    ASSERT_TRUE(resident.ok()) << resident.status();
    ASSERT_EQ((*mapped)->tensors().size(), (*resident)->tensors().size());
    for (const auto& [name, view] : (*mapped)->tensors()) {
      const TensorView& copy = (*resident)->tensors().at(name);
      EXPECT_NE(copy.data, view.data) << name;
      EXPECT_EQ(copy.shape, view.shape) << name;
      EXPECT_EQ(TensorBytes(copy), TensorBytes(view)) << name;
    }
  }
  auto resident = SafetensorsFile::Open(dir.file(), Residency::kResident);
  ASSERT_TRUE(resident.ok());
  const TensorView& big_view = (*resident)->tensors().at("big");
  EXPECT_EQ(TensorBytes(big_view), big);
  EXPECT_EQ(TensorBytes((*resident)->tensors().at("small")), "vwxyz");
  // The tensor data starts on a cache line, a few bytes into a huge-page allocation.
  const uintptr_t data_start = reinterpret_cast<uintptr_t>(big_view.data);
  EXPECT_EQ(data_start % 64, 0u);
  const uintptr_t file_start = data_start - 8 - header.size();
  EXPECT_LT(file_start % (uintptr_t{2} << 20), 64u);
}

TEST(Safetensors, TruncatedFileFailsNamingTensorPastEnd) {
  CheckpointDir dir("truncated");
  const std::string whole = ReadAll(std::string(kTinyDir) + "/model.safetensors");
  WriteAll(dir.file(), whole.substr(0, whole.size() / 2));
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {dir.file(), "past the end"});
}

TEST(Safetensors, FileShorterThanLengthPrefixFails) {
  CheckpointDir dir("short");
  WriteAll(dir.file(), "abc");
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"too short"});
}

TEST(Safetensors, HeaderLengthBeyondFileFails) {
  CheckpointDir dir("huge_header");
  WriteAll(dir.file(), LengthPrefix(~0ull) + "{}");
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"header length"});
}

TEST(Safetensors, BadHeaderJsonFails) {
  CheckpointDir dir("bad_json");
  WriteAll(dir.file(), SafetensorsBytes("{\"a\": [1, 2", ""));
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"not valid JSON"});
  WriteAll(dir.file(), SafetensorsBytes("[1, 2]", ""));
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"not a JSON object"});
}

// A dtype the reader has no size for is listed as kOther under its own name, offsets
// checked, size not (the engine refuses it only if it needs the tensor: checkpoint_errors_test).
TEST(Safetensors, UnknownDtypeIsListedAsOtherWithItsName) {
  CheckpointDir dir("dtype");
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["dtype"] = "Q4_K"; });
  ASSERT_TRUE(OpenFile(dir.file()).ok());  // Mapped and resident alike.
  auto file = SafetensorsFile::Open(dir.file());
  ASSERT_TRUE(file.ok()) << file.status();
  const TensorView& view = (*file)->tensors().at("lm_head.weight");
  EXPECT_EQ(view.dtype, DType::kOther);
  EXPECT_EQ(view.dtype_name, "Q4_K");
  const uint64_t size = dir.data().size();
  dir.Write([size](nlohmann::json& h) {
    h["lm_head.weight"]["dtype"] = "F4";
    h["lm_head.weight"]["data_offsets"] = {size, size + 1};
  });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight", "past the end"});
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["dtype"] = ""; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight", "dtype"});
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["dtype"] = "U32"; });
  // A known size is still checked.
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight", "bytes"});
}

TEST(Safetensors, ShapeDisagreeingWithByteCountFails) {
  CheckpointDir dir("shape_bytes");
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["shape"] = {2048, 65}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight", "bytes"});
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["shape"] = {-1, 64}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight", "negative"});
  dir.Write([](nlohmann::json& h) { h["lm_head.weight"]["shape"] = {1ll << 40, 1ll << 40}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"lm_head.weight"});
}

TEST(Safetensors, OffsetsPastEndFail) {
  CheckpointDir dir("offsets");
  const uint64_t size = dir.data().size();
  dir.Write([size](nlohmann::json& h) { h["model.norm.weight"]["data_offsets"] = {size, size + 128}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"model.norm.weight", "past the end"});
  dir.Write([](nlohmann::json& h) { h["model.norm.weight"]["data_offsets"] = {256, 128}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"model.norm.weight", "data_offsets"});
}

TEST(Safetensors, OverlappingTensorsFail) {
  CheckpointDir dir("overlap");
  dir.Write([](nlohmann::json& h) { h["model.norm.weight"]["data_offsets"] = {64, 192}; });
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"overlaps"});
}

TEST(Safetensors, DuplicateTensorNameFails) {
  CheckpointDir dir("duplicate");
  const std::string header =
      R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},)"
      R"( "a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}})";
  WriteAll(dir.file(), SafetensorsBytes(header, "abcd"));
  ExpectErrorMentions(OpenFile(dir.file()), absl::StatusCode::kDataLoss, {"'a'", "twice"});
}

TEST(Safetensors, RandomlyCorruptedHeadersFailCleanlyOrLoad) {
  CheckpointDir dir("fuzz");
  const std::string whole = ReadAll(std::string(kTinyDir) + "/model.safetensors");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(whole[i]);
  std::mt19937 rng(5);
  int failures = 0;
  for (int round = 0; round < 300; ++round) {
    std::string damaged = whole;
    for (int flips = 0; flips < 3; ++flips) {
      const size_t at = rng() % (8 + header_len);  // the length prefix or the JSON header
      damaged[at] = static_cast<char>(rng());
    }
    WriteAll(dir.file(), damaged);
    const absl::Status status = LoadWeights(dir.dir());
    if (!status.ok()) {
      ++failures;
      EXPECT_FALSE(status.message().empty());
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(Weights, MissingTensorFailsNamingIt) {
  CheckpointDir dir("missing");
  dir.Write([](nlohmann::json& h) { h.erase("model.layers.2.self_attn.sinks"); });
  ExpectErrorMentions(LoadWeights(dir.dir()), absl::StatusCode::kNotFound, {"model.layers.2.self_attn.sinks"});
}

TEST(Weights, ShapeMismatchWithConfigFailsNamingTensor) {
  CheckpointDir dir("config_shape");
  // Same bytes, reshaped: consistent for the file, wrong for the config.
  dir.Write([](nlohmann::json& h) { h["model.layers.1.self_attn.o_proj.weight"]["shape"] = {32, 128}; });
  ExpectErrorMentions(LoadWeights(dir.dir()), absl::StatusCode::kInvalidArgument,
                      {"model.layers.1.self_attn.o_proj.weight", "[32, 128]", "[64, 64]"});
}

TEST(Weights, WrongDtypeForMatrixFailsNamingTensor) {
  CheckpointDir dir("wrong_dtype");
  dir.Write([](nlohmann::json& h) {
    h["model.layers.0.self_attn.q_proj.weight"]["dtype"] = "I16";  // same size as BF16
  });
  ExpectErrorMentions(LoadWeights(dir.dir()), absl::StatusCode::kInvalidArgument,
                      {"model.layers.0.self_attn.q_proj.weight", "dtype I16", "expected BF16 or F16 or F32"});
}

TEST(Weights, ShardIndexNamingMissingFileFails) {
  CheckpointDir dir("bad_index");
  dir.Write([](nlohmann::json&) {});
  WriteAll(dir.dir() + "/model.safetensors.index.json",
           R"({"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}})");
  ExpectErrorMentions(LoadWeights(dir.dir()), absl::StatusCode::kNotFound, {"model-00001-of-00002.safetensors"});
  WriteAll(dir.dir() + "/model.safetensors.index.json", R"({"weight_map": {"lm_head.weight": "../x"}})");
  ExpectErrorMentions(LoadWeights(dir.dir()), absl::StatusCode::kDataLoss, {"plain file name"});
  std::remove((dir.dir() + "/model.safetensors.index.json").c_str());
}

TEST(Weights, LoadsBothFixtureLayouts) {
  EXPECT_TRUE(LoadWeights(kTinyDir).ok());
  EXPECT_TRUE(LoadWeights(std::string(kTinyDir) + "/original").ok());
}

}  // namespace
}  // namespace warden::model
