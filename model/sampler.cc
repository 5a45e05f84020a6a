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
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  const size_t keep = options_.top_k > 0 ? std::min<size_t>(options_.top_k, ids.size()) : ids.size();
  std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  ids.resize(keep);
  std::vector<double> probs(keep);
  const double max = logits[ids[0]];
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp((logits[ids[i]] - max) / options_.temperature);
    total += probs[i];
  }
  // Nucleus: the smallest prefix (in probability order) whose mass reaches top_p.
  size_t nucleus = keep;
  double mass = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    mass += probs[i] / total;
    if (mass >= options_.top_p) {
      nucleus = i + 1;
      break;
    }
  }
  std::discrete_distribution<size_t> pick(probs.begin(), probs.begin() + nucleus);
  return ids[pick(rng_)];
}

}  // namespace warden::model
