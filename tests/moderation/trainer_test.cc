#include "moderation/trainer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"

namespace warden::moderation {
namespace {

const int kViolence = CategoryIndex(warden::v1::VIOLENCE);

// A small synthetic data set: threats are violence positives, everything else negative.
std::vector<Example> ToyData() {
  const char* threats[] = {"i will stab you", "i am going to shoot them all", "we will burn your house",
                           "i will kill you tonight", "they will be shot", "stab him now"};
  const char* benign[] = {"i will bake a cake", "we are going to the park", "the house is lovely",
                          "see you tonight", "they will be late", "call him now"};
  std::vector<Example> out;
  for (int copy = 0; copy < 20; ++copy) {
    for (const char* t : threats) {
      Example e;
      e.text = std::string(t) + " " + std::to_string(copy);
      e.labels.fill(Label::kNegative);
      e.labels[kViolence] = Label::kPositive;
      out.push_back(e);
    }
    for (const char* t : benign) {
      Example e;
      e.text = std::string(t) + " " + std::to_string(copy);
      e.labels.fill(Label::kNegative);
      out.push_back(e);
    }
  }
  return out;
}

TrainOptions SmallOptions() {
  TrainOptions options;
  options.features.buckets_log2 = 14;
  options.epochs = 4;
  options.dev_percent = 0;
  return options;
}

TEST(Train, LearnsToSeparateToyThreatsFromBenignText) {
  const auto model = Train(ToyData(), SmallOptions());
  ASSERT_TRUE(model.ok()) << model.status();
  const auto classifier = FastClassifier::FromModel(*model);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  const float threat = (*classifier)->Score("i will stab you").scores[kViolence];
  const float benign = (*classifier)->Score("i will bake a cake").scores[kViolence];
  EXPECT_GT(threat, 0.7f);
  EXPECT_LT(benign, 0.3f);
}

TEST(Train, SameSeedGivesByteIdenticalModelsAndOtherSeedDiffers) {
  TrainOptions options = SmallOptions();
  const auto a = SerializeFastModel(*Train(ToyData(), options));
  const auto b = SerializeFastModel(*Train(ToyData(), options));
  options.seed = 2;
  const auto c = SerializeFastModel(*Train(ToyData(), options));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(Train, UnknownLabelsAreIgnored) {
  std::vector<Example> data = ToyData();
  // Marking every violence label unknown leaves nothing to learn for violence.
  for (Example& e : data) e.labels[kViolence] = Label::kUnknown;
  const auto model = Train(data, SmallOptions());
  ASSERT_TRUE(model.ok());
  for (size_t b = 0; b < model->weights.size() / kNumCategories; ++b) {
    ASSERT_EQ(model->weights[b * kNumCategories + kViolence], 0) << b;
  }
}

TEST(Train, GroupDevSplitKeepsBackWholeGroups) {
  // Twelve groups of twenty rows (a text and its numbered copies are one group): by group,
  // the development rows are the rows of the groups whose own hash falls in the split.
  std::vector<Example> data = ToyData();
  for (Example& e : data) e.group = e.text.substr(0, e.text.rfind(' '));
  int expected_dev = 0;
  for (const Example& e : data) expected_dev += Crc32(e.group) % 100 < 50;
  ASSERT_GT(expected_dev, 0);
  ASSERT_LT(expected_dev, static_cast<int>(data.size()));
  TrainOptions options = SmallOptions();
  options.dev_percent = 50;
  options.dev_split = DevSplit::kGroup;
  TrainReport report;
  ASSERT_TRUE(Train(data, options, &report).ok());
  EXPECT_EQ(report.dev_rows, expected_dev);
  EXPECT_EQ(report.train_rows + report.dev_rows, static_cast<int>(data.size()));
}

TEST(Train, SubcategoryWithoutDevPositivesBorrowsParentThreshold) {
  std::vector<Example> data = ToyData();
  const int graphic = CategoryIndex(warden::v1::VIOLENCE_GRAPHIC);
  data[0].labels[graphic] = Label::kPositive;  // one positive: too few to choose on
  TrainOptions options = SmallOptions();
  options.dev_percent = 50;
  options.min_dev_positives = 5;
  options.fallback_threshold = 0.123f;
  const auto model = Train(data, options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NE(model->threshold[kViolence], 0.123f);
  EXPECT_GE(model->threshold[kViolence], options.min_threshold);
  EXPECT_EQ(model->threshold[graphic], model->threshold[kViolence]);
  // A category without parent and without positives keeps the fallback.
  EXPECT_EQ(model->threshold[CategoryIndex(warden::v1::JAILBREAK)], 0.123f);
}

// Two sources: "tweets" (every row ends in "lol", 80 % threats) and "chat" (no "lol", 20 %
// threats). Without source offsets "lol" carries the tweets' label rate; with them, the
// tweets' offset does, and "lol" alone scores lower.
std::vector<Example> TwoRegisterData() {
  std::vector<Example> out;
  const char* threats[] = {"i will stab you", "we will shoot them", "burn their house"};
  const char* benign[] = {"nice cake", "see you at the park", "the dog is asleep"};
  for (int copy = 0; copy < 30; ++copy) {
    for (int i = 0; i < 10; ++i) {
      for (const bool tweet : {true, false}) {
        const bool threat = tweet ? i < 8 : i < 2;
        Example e;
        e.text = std::string(threat ? threats[i % 3] : benign[i % 3]) + (tweet ? " lol " : " ") +
                 std::to_string(copy * 10 + i);
        e.source = tweet ? "tweets" : "chat";
        e.labels.fill(Label::kNegative);
        if (threat) e.labels[kViolence] = Label::kPositive;
        out.push_back(e);
      }
    }
  }
  return out;
}

TEST(Train, SourceOffsetsKeepARegisterWordFromLearningItsSourcesLabelRate) {
  TrainOptions options = SmallOptions();
  options.source_balance_rows = 0;
  const auto plain = Train(TwoRegisterData(), options);
  options.source_offsets = true;
  const auto offset = Train(TwoRegisterData(), options);
  ASSERT_TRUE(plain.ok() && offset.ok());
  const auto plain_classifier = FastClassifier::FromModel(*plain);
  const auto offset_classifier = FastClassifier::FromModel(*offset);
  ASSERT_TRUE(plain_classifier.ok() && offset_classifier.ok());
  const float lol_plain = (*plain_classifier)->Score("lol").scores[kViolence];
  const float lol_offset = (*offset_classifier)->Score("lol").scores[kViolence];
  EXPECT_LT(lol_offset, lol_plain - 0.1f);
  // The threats are still learnt.
  EXPECT_GT((*offset_classifier)->Score("i will stab you").scores[kViolence],
            (*offset_classifier)->Score("nice cake").scores[kViolence] + 0.3f);
}

TEST(Train, RejectsEmptyDataAndBadOptions) {
  EXPECT_EQ(Train({}, SmallOptions()).status().code(), absl::StatusCode::kInvalidArgument);
  TrainOptions options = SmallOptions();
  options.epochs = 0;
  EXPECT_EQ(Train(ToyData(), options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::moderation
