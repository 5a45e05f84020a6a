// The embedding-bag kind of the .wmod format (version 2): round trip, refusal of unknown
// versions and kinds, corruption and truncation, and that version 1 (linear) still loads.
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "moderation/bag_model.h"
#include "moderation/model_file.h"
#include "tests/moderation/small_models.h"

namespace warden::moderation {
namespace {

BagModel SmallBag(uint32_t hidden) {
  BagModel m;
  m.features.buckets_log2 = 10;
  m.text_fold_version = 2;
  m.id = "bag-test";
  m.dim = 16;
  m.hidden = hidden;
  m.hierarchy = Hierarchy::kChildAtMostParent;
  for (int c = 0; c < kNumCategories; ++c) {
    m.threshold[c] = 0.3f + 0.01f * c;
    m.out_bias[c] = -2.0f + 0.1f * c;
  }
  m.embedding_scale.assign(m.dim, 0.0f);
  for (uint32_t d = 0; d < m.dim; ++d) m.embedding_scale[d] = 0.001f * (d + 1);
  m.embeddings.resize((size_t{1} << 10) * m.dim);
  for (size_t i = 0; i < m.embeddings.size(); ++i) m.embeddings[i] = static_cast<int8_t>(i * 13 % 255 - 127);
  m.hidden_weights.resize(size_t{hidden} * m.dim);
  for (size_t i = 0; i < m.hidden_weights.size(); ++i) m.hidden_weights[i] = 0.01f * (i % 17) - 0.08f;
  m.hidden_bias.assign(hidden, 0.05f);
  m.out_weights.resize(size_t{HeadInputs(m)} * kNumCategories);
  for (size_t i = 0; i < m.out_weights.size(); ++i) m.out_weights[i] = 0.02f * (i % 7) - 0.06f;
  return m;
}

std::string WithU32At(std::string bytes, size_t offset, uint32_t value) {
  std::memcpy(&bytes[offset], &value, sizeof(value));
  return bytes;
}

TEST(BagModelFile, RoundTripPreservesEveryFieldWithAndWithoutHiddenLayer) {
  for (const uint32_t hidden : {0u, 24u}) {
    const BagModel model = SmallBag(hidden);
    const auto bytes = SerializeBagModel(model);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    const auto parsed = ParseModelFile(*bytes, "mem");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->kind, ModelKind::kEmbeddingBag);
    const BagModel& b = parsed->bag;
    EXPECT_EQ(b.id, model.id);
    EXPECT_EQ(b.features.buckets_log2, 10u);
    EXPECT_EQ(b.dim, 16u);
    EXPECT_EQ(b.hidden, hidden);
    EXPECT_EQ(b.hierarchy, Hierarchy::kChildAtMostParent);
    EXPECT_EQ(b.threshold, model.threshold);
    EXPECT_EQ(b.out_bias, model.out_bias);
    EXPECT_EQ(b.embedding_scale, model.embedding_scale);
    EXPECT_EQ(b.embeddings, model.embeddings);
    EXPECT_EQ(b.hidden_weights, model.hidden_weights);
    EXPECT_EQ(b.hidden_bias, model.hidden_bias);
    EXPECT_EQ(b.out_weights, model.out_weights);
  }
}

TEST(BagModelFile, BagFileIsVersion2WithKind2) {
  const std::string bytes = *SerializeBagModel(SmallBag(0));
  uint32_t version, kind;
  std::memcpy(&version, bytes.data() + 4, 4);
  std::memcpy(&kind, bytes.data() + 8, 4);
  EXPECT_EQ(version, kModelFormatVersionWithKind);
  EXPECT_EQ(kind, static_cast<uint32_t>(ModelKind::kEmbeddingBag));
}

TEST(BagModelFile, Version1LinearFilesStillLoadAsLinear) {
  const std::string bytes = *SerializeFastModel(testing::SmallLinearModel());
  uint32_t version;
  std::memcpy(&version, bytes.data() + 4, 4);
  EXPECT_EQ(version, kModelFormatVersion);
  const auto parsed = ParseModelFile(bytes, "old.wmod");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kind, ModelKind::kLinear);
  EXPECT_EQ(parsed->linear.id, "linear-test");
}

TEST(BagModelFile, UnknownKindIsRefusedByName) {
  std::string bytes = WithU32At(*SerializeBagModel(SmallBag(0)), 8, 7);
  // Re-seal the checksum so that the kind check, not the CRC, has to catch it.
  const uint32_t crc = Crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  bytes = WithU32At(bytes, bytes.size() - 4, crc);
  const auto parsed = ParseModelFile(bytes, "future.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(parsed.status().message().find("unsupported model kind 7"), absl::string_view::npos)
      << parsed.status();
  EXPECT_NE(parsed.status().message().find("future.wmod"), absl::string_view::npos);
}

TEST(BagModelFile, UnknownVersionIsRefusedByName) {
  // The first version this build does not know (4 is an ensemble with a stacking layer).
  const std::string bytes =
      WithU32At(*SerializeBagModel(SmallBag(0)), 4, kModelFormatVersionStacking + 1);
  const auto parsed = ParseModelFile(bytes, "v5.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("unsupported model format version 5"),
            absl::string_view::npos)
      << parsed.status();
}

TEST(BagModelFile, CorruptByteAnywhereFailsTheChecksum) {
  const std::string good = *SerializeBagModel(SmallBag(8));
  for (const size_t at : {size_t{20}, good.size() / 2, good.size() - 10}) {
    std::string bytes = good;
    bytes[at] ^= 0x21;
    const auto parsed = ParseModelFile(bytes, "flip.wmod");
    ASSERT_FALSE(parsed.ok()) << at;
    EXPECT_NE(parsed.status().message().find("checksum"), absl::string_view::npos) << at;
  }
}

TEST(BagModelFile, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = *SerializeBagModel(SmallBag(8));
  for (size_t n = 0; n < bytes.size(); n += (n < 300 ? 1 : 331)) {
    const auto parsed = ParseModelFile(std::string_view(bytes).substr(0, n), "cut.wmod");
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST(BagModelFile, LinearParserRefusesABagFile) {
  const auto parsed = ParseFastModel(*SerializeBagModel(SmallBag(0)), "bag.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("embedding-bag"), absl::string_view::npos);
}

TEST(BagModelFile, InconsistentModelIsNotSerialised) {
  BagModel model = SmallBag(8);
  model.hidden_bias.pop_back();
  EXPECT_EQ(SerializeBagModel(model).status().code(), absl::StatusCode::kInvalidArgument);
  model = SmallBag(0);
  model.dim = 12;
  EXPECT_EQ(SerializeBagModel(model).status().code(), absl::StatusCode::kInvalidArgument);
  model = SmallBag(0);
  model.out_weights[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(SerializeBagModel(model).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BagModelFile, WriteThenReadFileRoundTrips) {
  const std::string path = ::testing::TempDir() + "/bag.wmod";
  ASSERT_TRUE(WriteBagModelFile(SmallBag(8), path).ok());
  const auto parsed = ReadModelFile(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->bag.embeddings, SmallBag(8).embeddings);
}

ModelFileContents SmallEnsemble() {
  ModelFileContents e;
  e.kind = ModelKind::kEnsemble;
  e.linear = testing::SmallLinearModel();
  e.bag = SmallBag(8);
  e.ensemble_id = "ens";
  e.ensemble_hierarchy = Hierarchy::kChildAtMostParent;
  for (int c = 0; c < kNumCategories; ++c) e.ensemble_threshold[c] = 0.4f + 0.01f * c;
  return e;
}

TEST(EnsembleModelFile, RoundTripKeepsBothMembersAndOwnThresholds) {
  const auto bytes = SerializeModelFile(SmallEnsemble());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const auto parsed = ParseModelFile(*bytes, "ens.wmod");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kind, ModelKind::kEnsemble);
  EXPECT_EQ(parsed->ensemble_id, "ens");
  EXPECT_EQ(parsed->ensemble_threshold, SmallEnsemble().ensemble_threshold);
  EXPECT_EQ(parsed->ensemble_hierarchy, Hierarchy::kChildAtMostParent);
  EXPECT_EQ(parsed->linear.weights, testing::SmallLinearModel().weights);
  EXPECT_EQ(parsed->bag.embeddings, SmallBag(8).embeddings);
  EXPECT_EQ(parsed->bag.hidden_weights, SmallBag(8).hidden_weights);
}

TEST(EnsembleModelFile, CorruptionAndTruncationAreRefused) {
  const std::string good = *SerializeModelFile(SmallEnsemble());
  std::string flipped = good;
  flipped[good.size() / 3] ^= 0x10;
  EXPECT_NE(ParseModelFile(flipped, "f").status().message().find("checksum"),
            absl::string_view::npos);
  for (size_t n = 0; n < good.size(); n += (n < 200 ? 1 : 1009)) {
    ASSERT_FALSE(ParseModelFile(std::string_view(good).substr(0, n), "cut").ok()) << n;
  }
}

// Builds version 2 / kind 3 bytes around `linear_member` and `bag_member` with a valid
// header and checksum, as a hostile file could.
std::string HandMadeEnsemble(const std::string& linear_member, const std::string& bag_member) {
  std::string header;
  const uint16_t id_len = 1;
  header.append(reinterpret_cast<const char*>(&id_len), 2);
  header += "x";
  for (int c = 0; c < kNumCategories; ++c) {
    const float t = 0.5f;
    header.append(reinterpret_cast<const char*>(&t), 4);
  }
  const uint32_t hierarchy = 0;
  header.append(reinterpret_cast<const char*>(&hierarchy), 4);
  std::string out = "WMOD";
  auto put32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto put64 = [&](uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); };
  put32(2);
  put32(3);
  put32(static_cast<uint32_t>(header.size()));
  out += header;
  put64(linear_member.size());
  out += linear_member;
  put64(bag_member.size());
  out += bag_member;
  put32(Crc32(out));
  return out;
}

TEST(EnsembleModelFile, HandMadeEnsembleParsesAndNestedEnsembleIsRefused) {
  const std::string linear = *SerializeFastModel(testing::SmallLinearModel());
  const std::string bag = *SerializeBagModel(SmallBag(0));
  ASSERT_TRUE(ParseModelFile(HandMadeEnsemble(linear, bag), "hand").ok());
  // An ensemble in the place of a member is refused without parsing it as an ensemble, so
  // a deeply nested hostile file cannot exhaust the stack.
  const std::string inner = HandMadeEnsemble(linear, bag);
  const auto nested = ParseModelFile(HandMadeEnsemble(inner, bag), "nested.wmod");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("cannot be a member"), absl::string_view::npos)
      << nested.status();
  // Members in the wrong order are refused by kind.
  const auto swapped = ParseModelFile(HandMadeEnsemble(bag, linear), "swapped.wmod");
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("wrong model kind"), absl::string_view::npos)
      << swapped.status();
}

TEST(EnsembleModelFile, ThresholdOutsideRangeIsNotSerialised) {
  ModelFileContents e = SmallEnsemble();
  e.ensemble_threshold[2] = 0.0f;
  EXPECT_EQ(SerializeModelFile(e).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::moderation
