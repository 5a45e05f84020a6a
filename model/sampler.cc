#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace warden::model {

absl::Status ValidateSamplingOptions(const SamplingOptions& options) {
  if (!(options.temperature >= 0.0f) || !std::isfinite(options.temperature)) {
    return absl::InvalidArgumentError("sampling 'temperature' must be a finite number >= 0");
  }
  if (!(options.top_p > 0.0f && options.top_p <= 1.0f)) {
    return absl::InvalidArgumentError("sampling 'top_p' must be in (0, 1]");
  }
  if (options.top_k < 0) return absl::InvalidArgumentError("sampling 'top_k' must be >= 0");
  return absl::OkStatus();
}

int32_t Sampler::Sample(absl::Span<const float> logits) {
  if (logits.empty()) return 0;
  if (options_.temperature == 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  const bool full_distribution = options_.top_k <= 0 && options_.top_p >= 1.0f;
  std::vector<int32_t>& ids = ids_;
  if (full_distribution) {
    // No cut: every token in id order, no sorting (the vocabulary has 201,088 entries).
    ids.resize(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
  } else {
    Candidates(logits, max_logit);
  }
  std::vector<double>& probs = probs_;
  probs.resize(ids.size());
  double total = 0.0;
  for (size_t i = 0; i < ids.size(); ++i) {
    probs[i] = std::exp((logits[ids[i]] - max_logit) / options_.temperature);
    total += probs[i];
  }
  size_t nucleus = ids.size();
  double nucleus_mass = total;
  if (!full_distribution) {
    // Nucleus: the smallest prefix (in probability order) whose mass reaches top_p.
    double mass = 0.0;
    nucleus_mass = 0.0;
    for (size_t i = 0; i < ids.size(); ++i) {
      mass += probs[i] / total_mass_;
      nucleus_mass += probs[i];
      if (mass >= options_.top_p) {
        nucleus = i + 1;
        break;
      }
    }
  }
  // Inverse of the cumulative distribution over the nucleus (std::discrete_distribution
  // would allocate its table on every call).
  const double target = std::uniform_real_distribution<double>(0.0, nucleus_mass)(rng_);
  double cumulative = 0.0;
  for (size_t i = 0; i < nucleus; ++i) {
    cumulative += probs[i];
    if (target < cumulative) return ids[i];
  }
  return ids[nucleus - 1];  // Rounding: the target fell at the very end.
}

void Sampler::Candidates(absl::Span<const float> logits, float max_logit) {
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  // Tokens a billion times less likely than the best cannot be in a top-k or nucleus cut
  // unless the cut needs nearly all the mass; sort only the rest when that is provably so.
  const double floor = 1e-9;
  std::vector<int32_t>& ids = ids_;
  ids.clear();
  double dropped = 0.0;
  // One pass: the mass of the whole distribution (relative to the max), for the nucleus,
  // and the tokens above the floor (an exp per token of a 201,088-token vocabulary).
  total_mass_ = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = std::exp((logits[i] - max_logit) / options_.temperature);
    total_mass_ += p;
    if (p >= floor) {
      ids.push_back(static_cast<int32_t>(i));
    } else {
      dropped += p;
    }
  }
  const size_t want = options_.top_k > 0 ? static_cast<size_t>(options_.top_k) : logits.size();
  const bool exact = dropped / total_mass_ < 1.0 - options_.top_p && ids.size() >= std::min(want, logits.size());
  if (!exact) {
    ids.resize(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
  }
  const size_t keep = std::min(want, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(), by_logit);
  ids.resize(keep);
  if (options_.top_k > 0) {
    // The nucleus is taken within the top-k, as before.
    total_mass_ = 0.0;
    for (int32_t id : ids) total_mass_ += std::exp((logits[id] - max_logit) / options_.temperature);
  }
}

}  // namespace warden::model
