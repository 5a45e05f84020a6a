#include "moderation/bag_trainer.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"
#include "moderation/text_fold.h"

namespace warden::moderation {
namespace {

const int kViolence = CategoryIndex(warden::v1::VIOLENCE);
const int kGraphic = CategoryIndex(warden::v1::VIOLENCE_GRAPHIC);

// Threats are violence positives; the gory ones are also violence/graphic. Everything
// else is negative.
std::vector<Example> ToyData() {
  const char* threats[] = {"i will stab you", "i am going to shoot them all", "we will burn your house",
                           "i will kill you tonight", "they will be shot", "stab him now"};
  const char* gore[] = {"blood and guts everywhere after the stab", "his skull split and brains spilled"};
  const char* benign[] = {"i will bake a cake", "we are going to the park", "the house is lovely",
                          "see you tonight", "they will be late", "call him now"};
  std::vector<Example> out;
  auto add = [&](const char* text, int copy, bool violent, bool graphic) {
    Example e;
    e.text = std::string(text) + " " + std::to_string(copy);
    e.labels.fill(Label::kNegative);
    if (violent) e.labels[kViolence] = Label::kPositive;
    if (graphic) e.labels[kGraphic] = Label::kPositive;
    out.push_back(e);
  };
  for (int copy = 0; copy < 20; ++copy) {
    for (const char* t : threats) add(t, copy, true, false);
    for (const char* t : gore) add(t, copy, true, true);
    for (const char* t : benign) add(t, copy, false, false);
  }
  return out;
}

BagTrainOptions SmallOptions() {
  BagTrainOptions options;
  options.features.buckets_log2 = 12;
  options.dim = 16;
  options.epochs = 6;
  options.learning_rate = 0.2f;
  options.dev_percent = 0;
  return options;
}

float Score(const BagModel& model, const std::string& text, int category) {
  const auto classifier = FastClassifier::FromBagModel(model);
  EXPECT_TRUE(classifier.ok()) << classifier.status();
  return classifier.ok() ? (*classifier)->Score(text).scores[category] : -1.0f;
}

TEST(TrainBag, LearnsToySeparationWithAndWithoutHiddenLayer) {
  for (const uint32_t hidden : {0u, 16u}) {
    BagTrainOptions options = SmallOptions();
    options.hidden = hidden;
    const auto model = TrainBag(ToyData(), options);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_GT(Score(*model, "i will stab you", kViolence), 0.7f) << hidden;
    EXPECT_LT(Score(*model, "i will bake a cake", kViolence), 0.3f) << hidden;
    EXPECT_GT(Score(*model, "his skull split and brains spilled", kGraphic),
              Score(*model, "i will stab you", kGraphic))
        << hidden;
  }
}

TEST(TrainBag, SameSeedGivesByteIdenticalModelsAndOtherSeedDiffers) {
  BagTrainOptions options = SmallOptions();
  const auto a = SerializeBagModel(*TrainBag(ToyData(), options));
  const auto b = SerializeBagModel(*TrainBag(ToyData(), options));
  options.seed = 2;
  const auto c = SerializeBagModel(*TrainBag(ToyData(), options));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(TrainBag, UnknownLabelsLeaveTheHeadOfThatCategoryUntouched) {
  std::vector<Example> data = ToyData();
  for (Example& e : data) e.labels[kViolence] = Label::kUnknown;
  const auto model = TrainBag(data, SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  for (uint32_t k = 0; k < HeadInputs(*model); ++k) {
    EXPECT_EQ(model->out_weights[static_cast<size_t>(kViolence) * HeadInputs(*model) + k], 0.0f);
  }
}

TEST(TrainBag, HierarchyOptionIsStoredAndCapsTheChild) {
  BagTrainOptions options = SmallOptions();
  options.hierarchy = Hierarchy::kChildAtMostParent;
  const auto model = TrainBag(ToyData(), options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->hierarchy, Hierarchy::kChildAtMostParent);
  for (const char* text : {"i will bake a cake", "his skull split", "stab"}) {
    EXPECT_LE(Score(*model, text, kGraphic), Score(*model, text, kViolence)) << text;
  }
}

TEST(TrainBag, BucketsNeverSeenInTrainingHaveZeroEmbeddings) {
  const std::vector<Example> data = ToyData();
  const BagTrainOptions options = SmallOptions();
  const auto model = TrainBag(data, options);
  ASSERT_TRUE(model.ok());
  std::set<uint32_t> seen;
  std::vector<uint32_t> features;
  for (const Example& e : data) {
    ExtractFeatures(FoldText(e.text), options.features, &features);
    seen.insert(features.begin(), features.end());
  }
  int nonzero_seen_rows = 0;
  for (uint32_t b = 0; b < (1u << options.features.buckets_log2); ++b) {
    bool nonzero = false;
    for (uint32_t d = 0; d < model->dim; ++d) nonzero |= model->embeddings[b * model->dim + d] != 0;
    if (seen.count(b) == 0) {
      ASSERT_FALSE(nonzero) << b;
    } else {
      nonzero_seen_rows += nonzero;
    }
  }
  EXPECT_GT(nonzero_seen_rows, static_cast<int>(seen.size()) / 2);
}

TEST(TrainBag, FeatureDropoutStillLearnsAndStaysDeterministic) {
  BagTrainOptions options = SmallOptions();
  options.feature_dropout = 0.3f;
  const auto a = TrainBag(ToyData(), options);
  const auto b = TrainBag(ToyData(), options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*SerializeBagModel(*a), *SerializeBagModel(*b));
  EXPECT_NE(*SerializeBagModel(*a), *SerializeBagModel(*TrainBag(ToyData(), SmallOptions())));
  EXPECT_GT(Score(*a, "i will stab you", kViolence), Score(*a, "i will bake a cake", kViolence) + 0.4f);
}

TEST(TrainBag, RejectsEmptyDataAndBadOptions) {
  EXPECT_EQ(TrainBag({}, SmallOptions()).status().code(), absl::StatusCode::kInvalidArgument);
  BagTrainOptions options = SmallOptions();
  options.dim = 12;
  EXPECT_EQ(TrainBag(ToyData(), options).status().code(), absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.epochs = 0;
  EXPECT_EQ(TrainBag(ToyData(), options).status().code(), absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.feature_dropout = 1.0f;
  EXPECT_EQ(TrainBag(ToyData(), options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::moderation
