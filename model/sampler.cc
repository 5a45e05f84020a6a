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
    probs[i] = full_distribution ? std::exp((logits[ids[i]] - max_logit) / options_.temperature) : weights_[ids[i]];
    total += probs[i];
  }
  // Inverse of the cumulative distribution over the candidates, the whole nucleus
  // (std::discrete_distribution would allocate its table on every call).
  const double target = std::uniform_real_distribution<double>(0.0, total)(rng_);
  double cumulative = 0.0;
  for (size_t i = 0; i < ids.size(); ++i) {
    cumulative += probs[i];
    if (target < cumulative) return ids[i];
  }
  return ids.back();  // Rounding: the target fell at the very end.
}

void Sampler::Candidates(absl::Span<const float> logits, float max_logit) {
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  // Tokens a billion times less likely than the best cannot be in a top-k or nucleus cut
  // unless the cut needs nearly all the mass; leave them out when that is provably so.
  const double floor = 1e-9;
  std::vector<int32_t>& ids = ids_;
  std::vector<double>& weight = weights_;
  weight.resize(logits.size());
  ids.clear();
  double dropped = 0.0;
  // One pass: every token's weight (relative to the max; an exp per token of a
  // 201,088-token vocabulary), the whole mass, and the tokens above the floor.
  total_mass_ = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = std::exp((logits[i] - max_logit) / options_.temperature);
    weight[i] = p;
    total_mass_ += p;
    if (p >= floor) {
      ids.push_back(static_cast<int32_t>(i));
    } else {
      dropped += p;
    }
  }
  const size_t want = options_.top_k > 0 ? std::min(static_cast<size_t>(options_.top_k), logits.size()) : logits.size();
  // Without a top-k the nucleus is measured against the whole mass, which includes the
  // dropped tokens; a top-k must also find all its members above the floor.
  const bool exact = dropped / total_mass_ < 1.0 - options_.top_p && (options_.top_k <= 0 || ids.size() >= want);
  if (!exact) {
    ids.resize(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
  }
  // The top-k: a selection, or for a small k one heap pass (faster than a selection then).
  constexpr size_t kHeapTopK = 1024;
  if (want < ids.size()) {
    if (want <= kHeapTopK) {
      std::partial_sort(ids.begin(), ids.begin() + want, ids.end(), by_logit);
    } else {
      std::nth_element(ids.begin(), ids.begin() + want, ids.end(), by_logit);
    }
    ids.resize(want);
  }
  if (options_.top_k > 0) {
    // The nucleus is taken within the top-k, as before.
    total_mass_ = 0.0;
    for (int32_t id : ids) total_mass_ += weight[id];
  }
  if (options_.top_p >= 1.0f) return;
  // The nucleus: the fewest most likely tokens whose mass reaches top_p of the total,
  // found by selections in O(n) rather than by sorting (sorting all 201,088 tokens took
  // ~35 ms per sampled token on the engine's thread). Invariant: the `lo` most likely
  // tokens, ids[0, lo), hold less than the target, the `hi` most likely at least it. The
  // split point first grows from the top (a nucleus is usually a small head), then halves.
  const double target = options_.top_p * total_mass_;
  size_t lo = 0;
  size_t hi = ids.size();
  double above = 0.0;  // The mass of ids[0, lo).
  size_t step = 256;
  while (hi - lo > 1) {
    const size_t mid = lo + std::max<size_t>(1, std::min(step, (hi - lo) / 2));
    std::nth_element(ids.begin() + lo, ids.begin() + mid, ids.begin() + hi, by_logit);
    double head = 0.0;
    for (size_t i = lo; i < mid; ++i) head += weight[ids[i]];
    if (above + head >= target) {
      hi = mid;
    } else {
      above += head;
      lo = mid;
      step *= 8;
    }
  }
  ids.resize(hi);
}

}  // namespace warden::model
