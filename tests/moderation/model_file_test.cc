#include "moderation/model_file.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

FastModel SmallModel() {
  FastModel m;
  m.features.buckets_log2 = 10;
  m.text_fold_version = 1;
  m.id = "test-model";
  m.features.length_norm = 1;
  for (int c = 0; c < kNumCategories; ++c) {
    m.bias[c] = -1.0f - c;
    m.scale[c] = 0.01f * (c + 1);
    m.threshold[c] = 0.5f + 0.01f * c;
  }
  m.weights.resize((1u << 10) * kNumCategories);
  for (size_t i = 0; i < m.weights.size(); ++i) m.weights[i] = static_cast<int8_t>(i * 7 % 255 - 127);
  return m;
}

TEST(ModelFile, RoundTripPreservesEveryField) {
  const FastModel model = SmallModel();
  const auto bytes = SerializeFastModel(model);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const auto parsed = ParseFastModel(*bytes, "mem");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, model.id);
  EXPECT_EQ(parsed->features.buckets_log2, 10u);
  EXPECT_EQ(parsed->features.char_min, model.features.char_min);
  EXPECT_EQ(parsed->features.length_norm, 1u);
  EXPECT_EQ(parsed->bias, model.bias);
  EXPECT_EQ(parsed->scale, model.scale);
  EXPECT_EQ(parsed->threshold, model.threshold);
  EXPECT_EQ(parsed->weights, model.weights);
}

TEST(ModelFile, WriteThenReadFileRoundTrips) {
  const std::string path = testing::TempDir() + "/m.wmod";
  ASSERT_TRUE(WriteFastModelFile(SmallModel(), path).ok());
  const auto parsed = ReadFastModelFile(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->weights, SmallModel().weights);
}

TEST(ModelFile, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = *SerializeFastModel(SmallModel());
  for (size_t n = 0; n < bytes.size(); n += (n < 200 ? 1 : 997)) {
    const auto parsed = ParseFastModel(std::string_view(bytes).substr(0, n), "cut.wmod");
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << n;
    EXPECT_NE(parsed.status().message().find("cut.wmod"), absl::string_view::npos);
  }
}

TEST(ModelFile, FlippedByteFailsTheChecksum) {
  std::string bytes = *SerializeFastModel(SmallModel());
  bytes[bytes.size() / 2] ^= 0x40;
  const auto parsed = ParseFastModel(bytes, "flip.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("checksum"), absl::string_view::npos);
}

TEST(ModelFile, BadMagicAndVersionAreNamed) {
  std::string bytes = *SerializeFastModel(SmallModel());
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_NE(ParseFastModel(bad_magic, "f").status().message().find("magic"),
            absl::string_view::npos);
  std::string bad_version = bytes;
  bad_version[4] = 9;
  EXPECT_NE(ParseFastModel(bad_version, "f").status().message().find("version"),
            absl::string_view::npos);
}

TEST(ModelFile, InvalidModelIsNotSerialised) {
  FastModel model = SmallModel();
  model.threshold[3] = 1.5f;
  EXPECT_EQ(SerializeFastModel(model).status().code(), absl::StatusCode::kInvalidArgument);
  model = SmallModel();
  model.weights.pop_back();
  EXPECT_EQ(SerializeFastModel(model).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelFile, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFastModelFile("/nonexistent/x.wmod").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ModelFile, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

}  // namespace
}  // namespace warden::moderation
