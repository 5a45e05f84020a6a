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

struct EvaluationReport {
  std::array<BinaryMetrics, kNumCategories> categories;
  std::map<std::string, SourceReport> sources;
  std::vector<CalibrationBin> calibration;  // pooled over every known label
  // Mean AUPRC over categories with at least `min_positives` positives.
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
