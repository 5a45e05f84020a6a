// Format version 4 of .wmod: an ensemble that carries a stacking layer (moderation/stacking.h).
// Ensembles without one keep their version and bytes; a layer of zeros scores exactly as no
// layer; a hand-made layer changes one category as computed by hand; a short or corrupt
// block is refused with a message naming the file.
#include <cmath>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"
#include "moderation/stacking.h"
#include "tests/moderation/small_models.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;
const int kHate = CategoryIndex(warden::v1::HATE);
const int kHateThreat = CategoryIndex(warden::v1::HATE_THREATENING);
constexpr size_t kBlockBytes = 8 + 4 + 4 * C + 4 * C * C;  // u64 length + block

const char* const kTexts[] = {"", "you are an idiot", "I will find you and hurt you",
                              "What is the capital of France?"};

ModelFileContents Ensemble() {
  ModelFileContents c;
  c.kind = ModelKind::kEnsemble;
  c.linear = testing::SmallLinearModel();
  c.linear.features.length_norm = 2;
  c.linear.features.repeats = kCountOnce;
  c.bag = testing::SmallBagModel(kCountOnce);
  c.ensemble_id = "ens";
  c.ensemble_threshold.fill(0.3f);
  return c;
}

StackingLayer HandMadeLayer() {
  StackingLayer layer;
  layer.bias[kHateThreat] = -0.25f;
  layer.weight[kHateThreat * C + kHate] = 0.5f;
  return layer;
}

std::string Serialized(const ModelFileContents& contents) {
  const auto bytes = SerializeModelFile(contents);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

uint32_t VersionOf(const std::string& bytes) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + 4, sizeof(v));
  return v;
}

void FixCrc(std::string& bytes) {
  const uint32_t crc = Crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  std::memcpy(&bytes[bytes.size() - 4], &crc, sizeof(crc));
}

std::unique_ptr<FastClassifier> Classifier(const std::string& bytes) {
  const auto contents = ParseModelFile(bytes, "test.wmod");
  EXPECT_TRUE(contents.ok()) << contents.status();
  if (!contents.ok()) return nullptr;
  auto classifier = FastClassifier::FromContents(*contents);
  EXPECT_TRUE(classifier.ok()) << classifier.status();
  return classifier.ok() ? std::move(*classifier) : nullptr;
}

TEST(StackingModelFile, EnsembleWithoutLayerKeepsVersion3AndItsBytes) {
  const std::string plain = Serialized(Ensemble());
  EXPECT_EQ(VersionOf(plain), kModelFormatVersionRepeats);
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = HandMadeLayer();
  const std::string stacked = Serialized(with);
  EXPECT_EQ(VersionOf(stacked), kModelFormatVersionStacking);
  // The version-4 file is the version-3 file plus the block (and another version and CRC).
  ASSERT_EQ(stacked.size(), plain.size() + kBlockBytes);
  EXPECT_EQ(stacked.substr(8, plain.size() - 12), plain.substr(8, plain.size() - 12));
}

TEST(StackingModelFile, LayerRoundTripsExactly) {
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = HandMadeLayer();
  with.ensemble_stacking->weight[3] = -1.25f;
  const auto parsed = ParseModelFile(Serialized(with), "v4.wmod");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->ensemble_stacking.has_value());
  EXPECT_EQ(parsed->ensemble_stacking->bias, with.ensemble_stacking->bias);
  EXPECT_EQ(parsed->ensemble_stacking->weight, with.ensemble_stacking->weight);
  EXPECT_FALSE(ParseModelFile(Serialized(Ensemble()), "v3.wmod")->ensemble_stacking.has_value());
}

TEST(StackingModelFile, ZeroLayerScoresExactlyAsTheUnstackedEnsemble) {
  ModelFileContents zero = Ensemble();
  zero.ensemble_stacking = StackingLayer{};
  const auto plain = Classifier(Serialized(Ensemble()));
  const auto stacked = Classifier(Serialized(zero));
  ASSERT_TRUE(plain && stacked);
  for (const char* text : kTexts) {
    const CategoryScores a = plain->Score(text), b = stacked->Score(text);
    EXPECT_EQ(std::memcmp(a.scores.data(), b.scores.data(), sizeof(a.scores)), 0) << text;
  }
}

TEST(StackingModelFile, HandMadeLayerChangesOneCategoryAsComputedByHand) {
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = HandMadeLayer();
  const auto plain = Classifier(Serialized(Ensemble()));
  const auto stacked = Classifier(Serialized(with));
  ASSERT_TRUE(plain && stacked);
  for (const char* text : kTexts) {
    const CategoryScores a = plain->Score(text), b = stacked->Score(text);
    const double z_ht = std::log(a.scores[kHateThreat] / (1.0 - a.scores[kHateThreat]));
    const double z_hate = std::log(a.scores[kHate] / (1.0 - a.scores[kHate]));
    const double expected = 1.0 / (1.0 + std::exp(-(z_ht - 0.25 + 0.5 * z_hate)));
    EXPECT_NEAR(b.scores[kHateThreat], expected, 1e-6) << text;
    EXPECT_NE(b.scores[kHateThreat], a.scores[kHateThreat]) << text;
    for (int c = 0; c < C; ++c) {
      if (c != kHateThreat) {
        EXPECT_EQ(b.scores[c], a.scores[c]) << text << " " << c;
      }
    }
  }
}

TEST(StackingModelFile, TruncatedBlockIsRefusedNamingTheFile) {
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = HandMadeLayer();
  const std::string good = Serialized(with);
  // Cut 4 to 900 bytes out of the block but keep a valid checksum: the parser itself
  // must notice, not the CRC.
  for (const size_t cut : {4u, 8u, 60u, 900u}) {
    std::string bytes = good.substr(0, good.size() - 4 - cut) + good.substr(good.size() - 4);
    FixCrc(bytes);
    const auto parsed = ParseModelFile(bytes, "short.wmod");
    ASSERT_FALSE(parsed.ok()) << cut;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(parsed.status().message().find("short.wmod"), absl::string_view::npos) << parsed.status();
    EXPECT_NE(parsed.status().message().find("stacking"), absl::string_view::npos) << parsed.status();
  }
  for (size_t n = 0; n < good.size(); n += 997) {
    EXPECT_FALSE(ParseModelFile(good.substr(0, n), "cut.wmod").ok()) << n;
  }
}

TEST(StackingModelFile, CorruptBlockIsRefusedByField) {
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = HandMadeLayer();
  const std::string good = Serialized(with);
  const size_t block = good.size() - 4 - kBlockBytes;
  {  // a NaN weight
    std::string bytes = good;
    const float nan = std::nanf("");
    std::memcpy(&bytes[block + 12 + 4 * C], &nan, sizeof(nan));
    FixCrc(bytes);
    const auto parsed = ParseModelFile(bytes, "nan.wmod");
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find("stacking weight"), absl::string_view::npos) << parsed.status();
  }
  {  // a wrong category count
    std::string bytes = good;
    const uint32_t fourteen = 14;
    std::memcpy(&bytes[block + 8], &fourteen, sizeof(fourteen));
    FixCrc(bytes);
    const auto parsed = ParseModelFile(bytes, "count.wmod");
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find("14 categories"), absl::string_view::npos) << parsed.status();
  }
  {  // a flipped byte without a fixed checksum
    std::string bytes = good;
    bytes[block + 20] ^= 0x40;
    EXPECT_FALSE(ParseModelFile(bytes, "flip.wmod").ok());
  }
}

TEST(StackingModelFile, Version4IsOnlyForEnsembles) {
  ModelFileContents linear;
  linear.kind = ModelKind::kLinear;
  linear.linear = testing::SmallLinearModel();
  linear.linear.features.repeats = kCountOnce;
  std::string bytes = Serialized(linear);
  ASSERT_EQ(VersionOf(bytes), kModelFormatVersionRepeats);
  const uint32_t four = kModelFormatVersionStacking;
  std::memcpy(&bytes[4], &four, sizeof(four));
  FixCrc(bytes);
  const auto parsed = ParseModelFile(bytes, "lin4.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("only for ensembles"), absl::string_view::npos) << parsed.status();
}

TEST(StackingModelFile, SerialisingANonFiniteLayerFails) {
  ModelFileContents with = Ensemble();
  with.ensemble_stacking = StackingLayer{};
  with.ensemble_stacking->bias[0] = INFINITY;
  EXPECT_EQ(SerializeModelFile(with).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::moderation
