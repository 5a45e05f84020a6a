#include "moderation/metrics.h"

#include <algorithm>
#include <random>

namespace warden::moderation {
namespace {

void SortByScoreDescending(std::vector<ScoredLabel>& scored) {
  std::stable_sort(scored.begin(), scored.end(),
                   [](const ScoredLabel& a, const ScoredLabel& b) { return a.score > b.score; });
}

}  // namespace

BinaryMetrics ComputeBinaryMetrics(std::vector<ScoredLabel> scored, float threshold) {
  BinaryMetrics m;
  int tp = 0, fp = 0;
  for (const ScoredLabel& s : scored) {
    (s.positive ? m.positives : m.negatives)++;
    if (s.score >= threshold) (s.positive ? tp : fp)++;
  }
  m.precision = tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 0.0;
  m.recall = m.positives > 0 ? static_cast<double>(tp) / m.positives : 0.0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  if (m.positives == 0) return m;
  // Average precision; tied scores form one step so the order among ties does not matter.
  SortByScoreDescending(scored);
  int seen_tp = 0, seen = 0;
  double previous_recall = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].score == scored[i].score) {
      seen_tp += scored[j].positive;
      ++seen;
      ++j;
    }
    const double recall = static_cast<double>(seen_tp) / m.positives;
    m.auprc += (recall - previous_recall) * seen_tp / seen;
    previous_recall = recall;
    i = j;
  }
  return m;
}

float BestThreshold(std::vector<ScoredLabel> scored, double beta, float fallback) {
  int positives = 0;
  for (const ScoredLabel& s : scored) positives += s.positive;
  if (positives == 0) return fallback;
  SortByScoreDescending(scored);
  const double b2 = beta * beta;
  double best = -1;
  float best_threshold = fallback;
  int tp = 0, flagged = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].score == scored[i].score) {
      tp += scored[j].positive;
      ++flagged;
      ++j;
    }
    const double precision = static_cast<double>(tp) / flagged;
    const double recall = static_cast<double>(tp) / positives;
    const double f = precision + recall > 0
                         ? (1 + b2) * precision * recall / (b2 * precision + recall) : 0;
    if (f > best && scored[i].score > 0) {
      best = f;
      best_threshold = scored[i].score;
    }
    i = j;
  }
  return std::clamp(best_threshold, 1e-4f, 1.0f);
}

float BootstrapMedianThreshold(const std::vector<ScoredLabel>& scored, double beta, float fallback,
                               int resamples, unsigned seed) {
  if (resamples <= 0 || scored.empty()) return BestThreshold(scored, beta, fallback);
  if (std::none_of(scored.begin(), scored.end(), [](const ScoredLabel& s) { return s.positive; })) {
    return fallback;
  }
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, scored.size() - 1);
  std::vector<float> chosen;
  chosen.reserve(resamples);
  std::vector<ScoredLabel> sample(scored.size());
  for (int r = 0; r < resamples; ++r) {
    for (ScoredLabel& s : sample) s = scored[pick(rng)];
    // A resample without positives says nothing about the threshold.
    if (std::any_of(sample.begin(), sample.end(), [](const ScoredLabel& s) { return s.positive; })) {
      chosen.push_back(BestThreshold(sample, beta, fallback));
    }
  }
  if (chosen.empty()) return BestThreshold(scored, beta, fallback);
  const auto middle = chosen.begin() + chosen.size() / 2;
  std::nth_element(chosen.begin(), middle, chosen.end());
  return *middle;
}

std::vector<CalibrationBin> Calibration(const std::vector<ScoredLabel>& scored, int bins) {
  std::vector<CalibrationBin> out(std::max(bins, 1));
  for (size_t b = 0; b < out.size(); ++b) {
    out[b].low = static_cast<float>(b) / out.size();
    out[b].high = static_cast<float>(b + 1) / out.size();
  }
  for (const ScoredLabel& s : scored) {
    const int b = std::clamp(static_cast<int>(s.score * out.size()), 0,
                             static_cast<int>(out.size()) - 1);
    out[b].count++;
    out[b].mean_score += s.score;
    out[b].positive_rate += s.positive;
  }
  for (CalibrationBin& bin : out) {
    if (bin.count == 0) continue;
    bin.mean_score /= bin.count;
    bin.positive_rate /= bin.count;
  }
  return out;
}

}  // namespace warden::moderation
