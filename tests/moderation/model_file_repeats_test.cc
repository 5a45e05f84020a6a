// Format version 3 of .wmod (FeatureConfig::repeats, default-v4): models that count each
// distinct feature once are version 3; models that count every occurrence are still
// written as versions 1/2, and files written by the previous build (default-v3's format)
// still load and score as they did.
#include <cstdio>
#include <cstring>
#include <utility>
#include <string>

#include "gtest/gtest.h"
#include "moderation/bag_model.h"
#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"
#include "tests/moderation/small_models.h"

namespace warden::moderation {
namespace {

BagModel SmallBag(uint32_t repeats) { return testing::SmallBagModel(repeats); }

FastModel SmallLinear(uint32_t repeats) {
  FastModel m = testing::SmallLinearModel();
  m.features.length_norm = 2;
  m.features.repeats = repeats;
  return m;
}

ModelFileContents Ensemble(uint32_t linear_repeats, uint32_t bag_repeats) {
  ModelFileContents c;
  c.kind = ModelKind::kEnsemble;
  c.linear = SmallLinear(linear_repeats);
  c.bag = SmallBag(bag_repeats);
  c.ensemble_id = "ens";
  c.ensemble_threshold.fill(0.3f);
  return c;
}

uint32_t U32At(const std::string& bytes, size_t offset) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + offset, sizeof(v));
  return v;
}

std::string Serialized(const ModelFileContents& contents) {
  const auto bytes = SerializeModelFile(contents);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

ModelFileContents Linear(uint32_t repeats) {
  ModelFileContents c;
  c.kind = ModelKind::kLinear;
  c.linear = SmallLinear(repeats);
  return c;
}

ModelFileContents Bag(uint32_t repeats) {
  ModelFileContents c;
  c.kind = ModelKind::kEmbeddingBag;
  c.bag = SmallBag(repeats);
  return c;
}

TEST(ModelFileRepeats, CountEveryModelsKeepTheirOldVersions) {
  EXPECT_EQ(U32At(Serialized(Linear(kCountEvery)), 4), kModelFormatVersion);
  EXPECT_EQ(U32At(Serialized(Bag(kCountEvery)), 4), kModelFormatVersionWithKind);
  EXPECT_EQ(U32At(Serialized(Ensemble(kCountEvery, kCountEvery)), 4), kModelFormatVersionWithKind);
}

TEST(ModelFileRepeats, CountOnceModelsAreVersion3AndRoundTrip) {
  for (const ModelFileContents& c : {Linear(kCountOnce), Bag(kCountOnce)}) {
    const std::string bytes = Serialized(c);
    EXPECT_EQ(U32At(bytes, 4), kModelFormatVersionRepeats);
    EXPECT_EQ(U32At(bytes, 8), static_cast<uint32_t>(c.kind));
    const auto parsed = ParseModelFile(bytes, "v3.wmod");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->kind, c.kind);
    const FeatureConfig& f =
        c.kind == ModelKind::kLinear ? parsed->linear.features : parsed->bag.features;
    EXPECT_EQ(f.repeats, kCountOnce);
    EXPECT_EQ(f.length_norm, 2u);
    EXPECT_EQ(f.buckets_log2, 10u);
  }
  const ModelFileContents linear = Linear(kCountOnce);
  const auto parsed = ParseModelFile(Serialized(linear), "v3.wmod");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->linear.weights, linear.linear.weights);
  EXPECT_EQ(parsed->linear.id, "linear-test");
}

TEST(ModelFileRepeats, EnsembleIsVersion3WhenEitherMemberCountsOnce) {
  for (const auto& [linear, bag] : {std::pair{kCountOnce, kCountEvery},
                                    std::pair{kCountEvery, kCountOnce},
                                    std::pair{kCountOnce, kCountOnce}}) {
    const std::string bytes = Serialized(Ensemble(linear, bag));
    EXPECT_EQ(U32At(bytes, 4), kModelFormatVersionRepeats);
    const auto parsed = ParseModelFile(bytes, "ens.wmod");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->linear.features.repeats, linear);
    EXPECT_EQ(parsed->bag.features.repeats, bag);
  }
}

TEST(ModelFileRepeats, EveryTruncationOfAVersion3FileIsAnError) {
  const std::string good = Serialized(Ensemble(kCountOnce, kCountOnce));
  for (size_t n = 0; n < good.size(); n += 97) {
    EXPECT_FALSE(ParseModelFile(good.substr(0, n), "cut.wmod").ok()) << n;
  }
}

TEST(ModelFileRepeats, UnknownRepeatsValueIsRefusedByName) {
  std::string bytes = Serialized(Bag(kCountOnce));
  // magic, version, kind, header length, text_fold_version, 5 feature fields, repeats.
  constexpr size_t kRepeatsOffset = 4 * 10;
  ASSERT_EQ(U32At(bytes, kRepeatsOffset), kCountOnce);
  const uint32_t bad = 2;
  std::memcpy(&bytes[kRepeatsOffset], &bad, sizeof(bad));
  const uint32_t crc = Crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  std::memcpy(&bytes[bytes.size() - 4], &crc, sizeof(crc));
  const auto parsed = ParseModelFile(bytes, "bad.wmod");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("repeats=2"), absl::string_view::npos)
      << parsed.status();
}

// tests/moderation/testdata/v3_format_ensemble.wmod was written by the build that shipped
// default-v3 (commit 5ffe6c1): `classifier train` (linear and --kind bag, --buckets_log2 10,
// --dim 8, --length_norm 2) on tests/data/moderation/tiny_train.jsonl, then `classifier
// ensemble`. Its members are format versions 1 and 2.
constexpr char kOldEnsemble[] = "tests/moderation/testdata/v3_format_ensemble.wmod";

TEST(ModelFileRepeats, FileOfThePreviousBuildLoadsAndCountsEveryOccurrence) {
  const auto contents = ReadModelFile(kOldEnsemble);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->kind, ModelKind::kEnsemble);
  EXPECT_EQ(contents->ensemble_id, "old-ensemble");
  EXPECT_EQ(contents->linear.features.repeats, kCountEvery);
  EXPECT_EQ(contents->bag.features.repeats, kCountEvery);
  // Re-serialising reproduces the old bytes: nothing of the old format changed.
  const auto bytes = SerializeModelFile(*contents);
  ASSERT_TRUE(bytes.ok());
  std::string file_bytes;
  {
    FILE* f = std::fopen(kOldEnsemble, "rb");
    ASSERT_NE(f, nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) file_bytes.append(buffer, n);
    std::fclose(f);
  }
  EXPECT_EQ(*bytes, file_bytes);
}

TEST(ModelFileRepeats, FileOfThePreviousBuildScoresAsItDid) {
  auto classifier = FastClassifier::Load(kOldEnsemble);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  // Printed by the previous build's `classifier score --model` for this text.
  const auto scores = (*classifier)->Score("you are an idiot");
  EXPECT_NEAR(scores.scores[CategoryIndex(warden::v1::VIOLENCE)], 0.3714519739151001, 1e-6);
  EXPECT_NEAR(scores.scores[CategoryIndex(warden::v1::HARASSMENT_THREATENING)],
              0.24590083956718445, 1e-6);
}

}  // namespace
}  // namespace warden::moderation
