// Evaluation of a classifier on labelled examples: per-category precision/recall/F1 at the
// given thresholds and AUPRC, the same per source, the share of rows flagged in any
// category per source (over-blocking on benign sets), and a calibration table.
//
// Thread safety: pure functions.
#ifndef WARDEN_MODERATION_EVALUATION_H_
#define WARDEN_MODERATION_EVALUATION_H_

#include <array>
#include <map>
#include <string>
#include <vector>

#include "moderation/classifier.h"
#include "moderation/dataset.h"
#include "moderation/metrics.h"

namespace warden::moderation {

struct SourceReport {
  int rows = 0;
  int flagged_rows = 0;  // rows with any category score >= its threshold
  std::array<BinaryMetrics, kNumCategories> categories;
};

// Scores of one category on benign rows (rows of a benign source, negative in that
// category): how often and how strongly ordinary text is scored as harmful.
struct BenignCategoryStats {
  int rows = 0;
  int flagged = 0;  // score >= the category's threshold
  int above_half = 0;  // score >= 0.5 (the threshold an outside user may assume)
  double mean_score = 0;
  float max_score = 0;
};

// The benign-text check over the rows of BenignSources().
struct BenignReport {
  std::array<BenignCategoryStats, kNumCategories> pooled;
  std::map<std::string, std::array<BenignCategoryStats, kNumCategories>> sources;
};

// Sources whose rows are ordinary, harmless text (benign chat prompts, everyday comments
// and replies, XSTest's safe prompts): the false-positive check of an outside benchmark
// on ordinary prompts and chat.
const std::vector<std::string>& BenignSources();

struct EvaluationReport {
  std::array<BinaryMetrics, kNumCategories> categories;
  BenignReport benign;
  std::map<std::string, SourceReport> sources;
  std::vector<CalibrationBin> calibration;  // pooled over every known label
  // Mean AUPRC over categories with at least `min_positives` positives and at least one
  // negative (without negatives AUPRC is 1 whatever the scores).
  double macro_auprc = 0;
  int macro_categories = 0;
};

// `scores[i]` belongs to `examples[i]`; sizes must match (otherwise an empty report).
EvaluationReport Evaluate(const std::vector<Example>& examples,
                          const std::vector<CategoryScores>& scores,
                          const std::array<float, kNumCategories>& thresholds,
                          int min_positives = 10);

// Human-readable tables of `report` (metrics of categories/sources with fewer than
// `min_positives` positives are listed but marked).
std::string FormatReport(const EvaluationReport& report, int min_positives = 10);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_EVALUATION_H_
