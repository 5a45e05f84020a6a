// Binary classification metrics for one category: precision/recall/F1 at a threshold,
// area under the precision-recall curve (average precision), best-F-beta threshold and a
// calibration table.
//
// Thread safety: pure functions.
#ifndef WARDEN_MODERATION_METRICS_H_
#define WARDEN_MODERATION_METRICS_H_

#include <vector>

namespace warden::moderation {

struct ScoredLabel {
  float score;
  bool positive;
};

struct BinaryMetrics {
  int positives = 0;
  int negatives = 0;
  double precision = 0;  // 0 when nothing is flagged
  double recall = 0;
  double f1 = 0;
  double auprc = 0;  // average precision; 0 without positives
};

BinaryMetrics ComputeBinaryMetrics(std::vector<ScoredLabel> scored, float threshold);

// The threshold in (0, 1] that maximises F-beta on `scored` (beta < 1 favours precision).
// `fallback` when there are no positives.
float BestThreshold(std::vector<ScoredLabel> scored, double beta, float fallback);

// The median of BestThreshold over `resamples` bootstrap resamples of `scored` (rows drawn
// with replacement, as many as there are; std::mt19937 seeded with `seed`, so the same
// inputs and standard library give the same threshold). Where F-beta is nearly flat over a
// range of thresholds, the plain maximum jumps across that range with a few development
// rows (in a default-v9 candidate the harassment/threatening threshold moved 0.46 -> 0.60
// when unrelated rows were added); the median of the resamples' maxima sits where most of
// them agree. `fallback` without positives; resamples <= 0 is BestThreshold itself.
float BootstrapMedianThreshold(const std::vector<ScoredLabel>& scored, double beta, float fallback,
                               int resamples, unsigned seed);

struct CalibrationBin {
  float low = 0, high = 0;
  int count = 0;
  double mean_score = 0;
  double positive_rate = 0;
};

// `bins` equal-width bins over [0, 1].
std::vector<CalibrationBin> Calibration(const std::vector<ScoredLabel>& scored, int bins);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_METRICS_H_
