#include "moderation/evaluation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/moderation/harassment_rows.h"

namespace warden::moderation {
namespace {

using testing::HarassmentRow;

const int kHarassment = CategoryIndex(warden::v1::HARASSMENT);
const int kViolence = CategoryIndex(warden::v1::VIOLENCE);

CategoryScores Scores(float harassment, float violence) {
  CategoryScores s;
  s.scores[kHarassment] = harassment;
  s.scores[kViolence] = violence;
  return s;
}

TEST(BenignCheck, CountsFalsePositivesMeanAndMaxOnBenignSourcesOnly) {
  const std::vector<Example> rows = {HarassmentRow("goemotions", Label::kNegative),
                                     HarassmentRow("goemotions", Label::kNegative),
                                     HarassmentRow("xstest-safe", Label::kNegative),
                                     HarassmentRow("davidson", Label::kNegative)};
  const std::vector<CategoryScores> scores = {Scores(0.9f, 0.1f), Scores(0.3f, 0.2f),
                                              Scores(0.6f, 0.0f), Scores(1.0f, 1.0f)};
  std::array<float, kNumCategories> thresholds;
  thresholds.fill(0.7f);
  const EvaluationReport report = Evaluate(rows, scores, thresholds);

  const BenignCategoryStats& h = report.benign.pooled[kHarassment];
  EXPECT_EQ(h.rows, 3);  // davidson is not a benign source
  EXPECT_EQ(h.flagged, 1);
  EXPECT_EQ(h.above_half, 2);
  EXPECT_NEAR(h.mean_score, (0.9 + 0.3 + 0.6) / 3, 1e-6);
  EXPECT_FLOAT_EQ(h.max_score, 0.9f);
  EXPECT_FLOAT_EQ(report.benign.pooled[kViolence].max_score, 0.2f);
  ASSERT_EQ(report.benign.sources.count("goemotions"), 1u);
  EXPECT_EQ(report.benign.sources.at("goemotions")[kHarassment].rows, 2);
  EXPECT_EQ(report.benign.sources.count("davidson"), 0u);
}

TEST(BenignCheck, SkipsUnknownAndPositiveLabelsOfBenignRows) {
  const std::vector<Example> rows = {HarassmentRow("goemotions", Label::kUnknown),
                                     HarassmentRow("goemotions", Label::kPositive)};
  const std::vector<CategoryScores> scores = {Scores(0.9f, 0.1f), Scores(0.9f, 0.1f)};
  std::array<float, kNumCategories> thresholds;
  thresholds.fill(0.5f);
  const EvaluationReport report = Evaluate(rows, scores, thresholds);
  EXPECT_EQ(report.benign.pooled[kHarassment].rows, 0);
  EXPECT_EQ(report.benign.pooled[kViolence].rows, 2);
}

TEST(BenignCheck, FormattedReportHasTheBenignTable) {
  const std::vector<Example> rows = {HarassmentRow("goemotions", Label::kNegative)};
  const std::vector<CategoryScores> scores = {Scores(0.9f, 0.1f)};
  std::array<float, kNumCategories> thresholds;
  thresholds.fill(0.5f);
  const std::string text = FormatReport(Evaluate(rows, scores, thresholds));
  EXPECT_NE(text.find("benign-text check"), std::string::npos);
  EXPECT_NE(text.find("S1 = goemotions"), std::string::npos);
}

// A category whose rows are all positive has AUPRC 1 whatever the scores: it stays out of
// the macro, and a report with no other category says the macro is not defined.
TEST(Evaluate, MacroSkipsCategoriesWithoutNegatives) {
  std::vector<Example> rows;
  std::vector<CategoryScores> scores;
  for (int i = 0; i < 12; ++i) {
    rows.push_back(HarassmentRow("advbench", Label::kPositive));
    scores.push_back(Scores(0.01f * i, 0.0f));
  }
  std::array<float, kNumCategories> thresholds;
  thresholds.fill(0.5f);
  EvaluationReport report = Evaluate(rows, scores, thresholds);
  EXPECT_EQ(report.macro_categories, 0);
  EXPECT_NE(FormatReport(report).find("macro AUPRC: n/a"), std::string::npos);
  // With negatives the category counts, and a ranking that puts every negative first is poor.
  for (int i = 0; i < 12; ++i) {
    rows.push_back(HarassmentRow("davidson", Label::kNegative));
    scores.push_back(Scores(0.9f, 0.0f));
  }
  report = Evaluate(rows, scores, thresholds);
  EXPECT_EQ(report.macro_categories, 1);
  EXPECT_LT(report.macro_auprc, 0.6);
  EXPECT_NE(FormatReport(report).find("macro AUPRC over 1 categories"), std::string::npos);
}

}  // namespace
}  // namespace warden::moderation
