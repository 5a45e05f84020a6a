// The logits file of `oss logits`: every byte written or an error, never a quiet truncation.
#include "model/tools/float_output.h"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::model::tools {
namespace {

TEST(FloatOutputTest, WritesLittleEndianFloats) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/logits.bin";
  auto file = OpenFloatOutput(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> values = {1.0f, -2.5f};
  ASSERT_TRUE(WriteFloatsAndClose(std::move(*file), path, values).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, std::string("\x00\x00\x80\x3f\x00\x00\x20\xc0", 8));
}

// A few floats stay in stdio's buffer until the close, which is where a full disk shows.
TEST(FloatOutputTest, FailedFlushAtCloseIsAnError) {
  auto file = OpenFloatOutput("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status();
  const absl::Status status = WriteFloatsAndClose(std::move(*file), "/dev/full", std::vector<float>{1.0f, 2.0f});
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
}

TEST(FloatOutputTest, UnwritablePathIsRefusedAtOpen) {
  const auto file = OpenFloatOutput("/nonexistent-dir/logits.bin");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace warden::model::tools
