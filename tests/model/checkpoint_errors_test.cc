// Checkpoints Warden cannot run are refused at load time with a message that says why.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "base/file.h"
#include "model/checkpoint_writer.h"
#include "model/engine.h"
#include "nlohmann/json.hpp"
#include "tests/model/random_checkpoint.h"

namespace warden::model {
namespace {

// Renames tensor `from` to `to` in a safetensors file's header (the data offsets are
// relative to the end of the header, so only the header changes).
void RenameTensor(const std::string& path, const std::string& from, const std::string& to) {
  const absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string& bytes = *read;
  ASSERT_GE(bytes.size(), 8u);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);  // little-endian, as this machine
  nlohmann::ordered_json header = nlohmann::ordered_json::parse(bytes.substr(8, header_size));
  ASSERT_TRUE(header.contains(from)) << from;
  header[to] = header[from];
  header.erase(from);
  const std::string text = header.dump();
  const uint64_t new_size = text.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&new_size), 8);
  out << text << bytes.substr(8 + header_size);
  ASSERT_TRUE(out.good());
}

TEST(CheckpointErrors, DequantisedExpertsAreRefusedNamingTheTensor) {
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
  EXPECT_TRUE(absl::StrContains(engine.status().message(), "stored unquantised ('" + dequantised + "')"))
      << engine.status();
  EXPECT_TRUE(absl::StrContains(engine.status().message(), blocks)) << engine.status();
}

}  // namespace
}  // namespace warden::model
