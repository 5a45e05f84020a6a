// FastClassifier loads every model kind from a file and scores with it: a linear file,
// an embedding-bag file, and an ensemble file whose scores are the mean of its members'.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/bag_trainer.h"
#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"
#include "moderation/trainer.h"

namespace warden::moderation {
namespace {

const int kViolence = CategoryIndex(warden::v1::VIOLENCE);

std::vector<Example> ToyData() {
  const char* threats[] = {"i will stab you", "we will burn your house", "i will kill you tonight"};
  const char* benign[] = {"i will bake a cake", "the house is lovely", "see you tonight"};
  std::vector<Example> out;
  for (int copy = 0; copy < 20; ++copy) {
    for (int i = 0; i < 3; ++i) {
      for (const bool violent : {true, false}) {
        Example e;
        e.text = std::string(violent ? threats[i] : benign[i]) + " " + std::to_string(copy);
        e.labels.fill(Label::kNegative);
        if (violent) e.labels[kViolence] = Label::kPositive;
        out.push_back(e);
      }
    }
  }
  return out;
}

FastModel Linear() {
  TrainOptions options;
  options.features.buckets_log2 = 12;
  options.dev_percent = 0;
  options.id = "lin";
  return *Train(ToyData(), options);
}

BagModel Bag(uint32_t buckets_log2) {
  BagTrainOptions options;
  options.features.buckets_log2 = buckets_log2;
  options.dim = 16;
  options.dev_percent = 0;
  options.id = "bag";
  return *TrainBag(ToyData(), options);
}

std::unique_ptr<FastClassifier> LoadFile(const ModelFileContents& contents, const std::string& name) {
  const std::string path = testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteModelFile(contents, path).ok());
  auto loaded = FastClassifier::Load(path);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? std::move(*loaded) : nullptr;
}

TEST(FastClassifierKinds, EnsembleScoresAreTheMeanOfItsMembers) {
  // 13 buckets for the bag: the ensemble must hash the text a second time for it.
  for (const uint32_t bag_buckets : {12u, 13u}) {
    ModelFileContents linear, bag, ensemble;
    linear.kind = ModelKind::kLinear;
    linear.linear = Linear();
    bag.kind = ModelKind::kEmbeddingBag;
    bag.bag = Bag(bag_buckets);
    ensemble.kind = ModelKind::kEnsemble;
    ensemble.linear = linear.linear;
    ensemble.bag = bag.bag;
    ensemble.ensemble_id = "ens";
    ensemble.ensemble_threshold.fill(0.42f);
    const auto a = LoadFile(linear, "lin.wmod");
    const auto b = LoadFile(bag, "bag.wmod");
    const auto e = LoadFile(ensemble, "ens.wmod");
    ASSERT_TRUE(a && b && e);
    EXPECT_EQ(a->name(), "fast:lin");
    EXPECT_EQ(b->name(), "fast:bag");
    EXPECT_EQ(e->name(), "fast:ens");
    EXPECT_EQ(e->default_thresholds()[kViolence], 0.42f);
    ensemble.ensemble_hierarchy = Hierarchy::kChildAtMostParent;
    const auto h = LoadFile(ensemble, "ens_h.wmod");
    ASSERT_TRUE(h);
    for (const char* text : {"i will stab you", "i will bake a cake", "", "ünïcödé 🙂"}) {
      const auto sa = a->Score(text).scores, sb = b->Score(text).scores, se = e->Score(text).scores;
      std::array<float, kNumCategories> mean{};
      for (int c = 0; c < kNumCategories; ++c) {
        mean[c] = 0.5f * (sa[c] + sb[c]);
        EXPECT_NEAR(se[c], mean[c], 1e-6) << text << " " << c;
      }
      // With the hierarchy rule, a subcategory is the smaller of its mean and its parent's.
      const auto sh = h->Score(text).scores;
      for (int c = 0; c < kNumCategories; ++c) {
        const int parent = ParentCategoryIndex(c);
        const float expected = parent < 0 ? mean[c] : std::min(mean[c], mean[parent]);
        EXPECT_NEAR(sh[c], expected, 1e-6) << text << " " << c;
      }
    }
    EXPECT_GT(e->Score("i will stab you").scores[kViolence],
              e->Score("i will bake a cake").scores[kViolence]);
  }
}

TEST(FastClassifierKinds, BagModelOfAnotherTextFoldingIsRefused) {
  BagModel bag = Bag(12);
  bag.text_fold_version += 1;
  const auto loaded = FastClassifier::FromBagModel(bag);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("text folding version"), absl::string_view::npos);
}

TEST(FastClassifierKinds, CorruptBagFileIsAnErrorNamingTheFile) {
  const std::string path = testing::TempDir() + "/corrupt.wmod";
  std::string bytes = *SerializeBagModel(Bag(12));
  bytes[bytes.size() / 2] ^= 1;
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  const auto loaded = FastClassifier::Load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("corrupt.wmod"), absl::string_view::npos);
}

}  // namespace
}  // namespace warden::moderation
