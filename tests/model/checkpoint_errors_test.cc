// Checkpoints Warden cannot run are refused at load time with a message that says why.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "base/file.h"
#include "model/checkpoint_writer.h"
#include "model/engine.h"
#include "nlohmann/json.hpp"
#include "tests/model/random_checkpoint.h"

namespace warden::model {
namespace {

// Rewrites a safetensors file's header with `edit(header, data_size)` and appends `extra`
// bytes to its data (the data offsets are relative to the end of the header).
void EditHeader(const std::string& path, const std::function<void(nlohmann::ordered_json&, uint64_t)>& edit,
                const std::string& extra = "") {
  const absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string& bytes = *read;
  ASSERT_GE(bytes.size(), 8u);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);  // little-endian, as this machine
  nlohmann::ordered_json header = nlohmann::ordered_json::parse(bytes.substr(8, header_size));
  edit(header, bytes.size() - 8 - header_size);
  const std::string text = header.dump();
  const uint64_t new_size = text.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&new_size), 8);
  out << text << bytes.substr(8 + header_size) << extra;
  ASSERT_TRUE(out.good());
}

absl::StatusOr<std::unique_ptr<Engine>> LoadOddShape(const std::string& dir) {
  LoadOptions options;
  options.model_dir = dir;
  options.threads = 1;
  return Engine::Load(options);
}

std::string WriteOddShape(const std::string& name) {
  CheckpointSpec spec;
  spec.config = testing::OddShape();
  spec.seed = 3;
  const std::string dir = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteRandomCheckpoint(dir, spec).ok());
  return dir;
}

// Tensors the engine never reads may have any dtype the format defines (an exporter's
// F8_E8M0 scales, U32 indices, sub-byte F4) or one it does not know yet.
TEST(CheckpointErrors, ExtraTensorsOfAnyDtypeDoNotStopTheLoad) {
  const std::string dir = WriteOddShape("extra_dtypes");
  EditHeader(
      dir + "/model.safetensors",
      [](nlohmann::ordered_json& header, uint64_t size) {
        header["extra.u32"] = {{"dtype", "U32"}, {"shape", {2}}, {"data_offsets", {size, size + 8}}};
        header["extra.e8m0"] = {{"dtype", "F8_E8M0"}, {"shape", {4}}, {"data_offsets", {size + 8, size + 12}}};
        header["extra.f4"] = {{"dtype", "F4"}, {"shape", {8}}, {"data_offsets", {size + 12, size + 16}}};
        header["extra.future"] = {{"dtype", "F2_E1M0"}, {"shape", {3, 5}}, {"data_offsets", {size + 16, size + 16}}};
      },
      std::string(16, '\x01'));
  const auto engine = LoadOddShape(dir);
  EXPECT_TRUE(engine.ok()) << engine.status();
}

TEST(CheckpointErrors, NeededTensorOfAnUnsupportedDtypeIsRefusedNamingIt) {
  const std::string dir = WriteOddShape("needed_dtype");
  EditHeader(dir + "/model.safetensors",
             [](nlohmann::ordered_json& header, uint64_t) { header["lm_head.weight"]["dtype"] = "Q4_K"; });
  const auto engine = LoadOddShape(dir);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument) << engine.status();
  EXPECT_TRUE(absl::StrContains(engine.status().message(), "'lm_head.weight' has dtype Q4_K")) << engine.status();
}

// Renames tensor `from` to `to` in a safetensors file's header.
void RenameTensor(const std::string& path, const std::string& from, const std::string& to) {
  EditHeader(path, [&](nlohmann::ordered_json& header, uint64_t) {
    ASSERT_TRUE(header.contains(from)) << from;
    header[to] = header[from];
    header.erase(from);
  });
}

// Logits of `tokens` prefilled in one fresh sequence.
std::vector<float> PromptLogits(Engine& engine, const std::vector<int32_t>& tokens) {
  const SequenceId sequence = engine.CreateSequence();
  auto logits = engine.Prefill(sequence, tokens, /*all_positions=*/true);
  EXPECT_TRUE(logits.ok()) << logits.status();
  return logits.ok() ? *logits : std::vector<float>();
}

// Copies the bytes of tensor `from` over those of `to` (same size) in a safetensors file.
void CopyTensorData(const std::string& path, const std::string& from, const std::string& to) {
  absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  std::string bytes = *read;
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  const uint64_t from_begin = header[from]["data_offsets"][0], from_end = header[from]["data_offsets"][1];
  const uint64_t to_begin = header[to]["data_offsets"][0], to_end = header[to]["data_offsets"][1];
  ASSERT_EQ(from_end - from_begin, to_end - to_begin);
  const size_t data = 8 + header_size;
  bytes.replace(data + to_begin, to_end - to_begin, bytes.substr(data + from_begin, from_end - from_begin));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good());
}

// Sets `key` to `value` in a checkpoint's config.json.
void SetConfig(const std::string& dir, const std::string& key, const nlohmann::json& value) {
  absl::StatusOr<std::string> read = ReadFile(dir + "/config.json");
  ASSERT_TRUE(read.ok()) << read.status();
  nlohmann::json config = nlohmann::json::parse(*read);
  config[key] = value;
  std::ofstream out(dir + "/config.json", std::ios::trunc);
  out << config.dump();
  ASSERT_TRUE(out.good());
}

// tie_word_embeddings: the embedding is the unembedding; lm_head.weight, if present, is
// not read, and may be absent. Same logits as an untied checkpoint whose lm_head is a copy
// of the embedding.
TEST(CheckpointErrors, TiedEmbeddingsUseTheEmbeddingAsUnembedding) {
  const std::string copied = WriteOddShape("tie_copied");
  CopyTensorData(copied + "/model.safetensors", "model.embed_tokens.weight", "lm_head.weight");
  const std::string tied = WriteOddShape("tie_flag");
  SetConfig(tied, "tie_word_embeddings", true);
  const std::string tied_without_head = WriteOddShape("tie_no_head");
  SetConfig(tied_without_head, "tie_word_embeddings", true);
  RenameTensor(tied_without_head + "/model.safetensors", "lm_head.weight", "unused.lm_head");
  const std::vector<int32_t> tokens = {5, 17, 3, 99, 42};
  auto reference = LoadOddShape(copied);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<float> expected = PromptLogits(**reference, tokens);
  ASSERT_FALSE(expected.empty());
  for (const std::string& dir : {tied, tied_without_head}) {
    auto engine = LoadOddShape(dir);
    ASSERT_TRUE(engine.ok()) << dir << ": " << engine.status();
    EXPECT_EQ(PromptLogits(**engine, tokens), expected) << dir;
  }
  auto untied = LoadOddShape(WriteOddShape("tie_none"));
  ASSERT_TRUE(untied.ok());
  EXPECT_NE(PromptLogits(**untied, tokens), expected);  // The random lm_head differs.
}

// Unquantised experts are quantised at load (tests/model/unquantised_experts_test.cc); a
// tensor under that name with another shape (here the MXFP4 blocks renamed) is refused.
TEST(CheckpointErrors, UnquantisedExpertsOfTheWrongShapeAreRefusedNamingTheTensor) {
  CheckpointSpec spec;
  spec.config = testing::OddShape();
  spec.seed = 3;
  const std::string dir = ::testing::TempDir() + "/dequantised";
  ASSERT_TRUE(WriteRandomCheckpoint(dir, spec).ok());
  const std::string blocks = "model.layers.1.mlp.experts.down_proj_blocks";
  const std::string dequantised = "model.layers.1.mlp.experts.down_proj";
  RenameTensor(dir + "/model.safetensors", blocks, dequantised);
  LoadOptions options;
  options.model_dir = dir;
  options.threads = 1;
  const auto engine = Engine::Load(options);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument) << engine.status();
  EXPECT_TRUE(absl::StrContains(engine.status().message(), "tensor '" + dequantised + "' has shape"))
      << engine.status();
  EXPECT_TRUE(absl::StrContains(engine.status().message(), "the config needs")) << engine.status();
}

// `oss make-checkpoint` into a directory: a new, empty or earlier random one is (re)written
// and loads (stale shards of a sharded earlier one are gone); one holding anything else, as
// a downloaded checkpoint does, is refused with every file left as it was.
TEST(CheckpointErrors, MakeCheckpointNeverOverwritesAForeignDirectory) {
  namespace fs = std::filesystem;
  CheckpointSpec spec;
  spec.config = testing::OddShape();
  spec.seed = 5;
  const std::string fresh = ::testing::TempDir() + "/prepare_fresh/sub";
  ASSERT_TRUE(PrepareRandomCheckpointDir(fresh).ok());
  ASSERT_TRUE(WriteRandomCheckpoint(fresh, spec).ok());

  const std::string sharded = ::testing::TempDir() + "/prepare_sharded";
  spec.max_shard_bytes = 4 << 10;  // several shards
  ASSERT_TRUE(WriteRandomCheckpoint(sharded, spec).ok());
  ASSERT_TRUE(fs::exists(sharded + "/model.safetensors.index.json"));
  spec.max_shard_bytes = int64_t{1} << 30;
  ASSERT_TRUE(PrepareRandomCheckpointDir(sharded).ok());
  ASSERT_TRUE(WriteRandomCheckpoint(sharded, spec).ok());
  int weight_files = 0;
  for (const auto& entry : fs::directory_iterator(sharded)) {
    weight_files += absl::StrContains(entry.path().filename().string(), "safetensors");
  }
  EXPECT_EQ(weight_files, 1);  // model.safetensors only: no stale shard, no stale index
  EXPECT_TRUE(LoadOddShape(sharded).ok());

  const std::string real = ::testing::TempDir() + "/prepare_real";
  ASSERT_TRUE(WriteRandomCheckpoint(real, spec).ok());
  { std::ofstream(real + "/tokenizer.json") << "{}"; }
  const uint64_t size = fs::file_size(real + "/model.safetensors");
  const absl::Status refused = PrepareRandomCheckpointDir(real);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.message(), "tokenizer.json")) << refused;
  EXPECT_EQ(fs::file_size(real + "/model.safetensors"), size);
  EXPECT_TRUE(fs::exists(real + "/config.json"));

  // Only the file names a random checkpoint has, but no marker: a partial download.
  const std::string partial = ::testing::TempDir() + "/prepare_partial";
  ASSERT_TRUE(WriteRandomCheckpoint(partial, spec).ok());
  ASSERT_TRUE(fs::remove(partial + "/" + kRandomCheckpointMarker));
  const absl::Status unmarked = PrepareRandomCheckpointDir(partial);
  EXPECT_EQ(unmarked.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(unmarked.message(), "not written by make-checkpoint")) << unmarked;
  EXPECT_TRUE(fs::exists(partial + "/model.safetensors"));

  fs::create_directories(::testing::TempDir() + "/prepare_subdir/original");
  EXPECT_EQ(PrepareRandomCheckpointDir(::testing::TempDir() + "/prepare_subdir").code(),
            absl::StatusCode::kFailedPrecondition);
  { std::ofstream(::testing::TempDir() + "/prepare_file") << "x"; }
  EXPECT_EQ(PrepareRandomCheckpointDir(::testing::TempDir() + "/prepare_file").code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace warden::model
