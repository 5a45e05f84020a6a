// Picks the next token from logits: greedy when temperature is 0, otherwise softmax at the
// temperature restricted to the top-k tokens and the top-p probability mass, drawn with a
// seeded generator (the same seed and logits give the same tokens).
// Thread safety: not thread-safe (holds the generator); one per generation.
#ifndef WARDEN_MODEL_SAMPLER_H_
#define WARDEN_MODEL_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace warden::model {

struct SamplingOptions {
  float temperature = 1.0f;  // 0 = greedy
  float top_p = 1.0f;        // (0, 1]
  int top_k = 0;             // 0 = no limit
  uint64_t seed = 0;
};

// INVALID_ARGUMENT naming the field when out of range.
absl::Status ValidateSamplingOptions(const SamplingOptions& options);

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {}
  int32_t Sample(absl::Span<const float> logits);

 private:
  // The candidates into ids_, in no particular order: the top-k, then its nucleus (the
  // fewest most likely tokens holding top_p of the mass; ties broken by the lower id).
  // O(vocabulary): selections, never a sort.
  void Candidates(absl::Span<const float> logits, float max_logit);

  SamplingOptions options_;
  double total_mass_ = 0.0;
  std::mt19937_64 rng_;
  // Scratch kept between calls (a decode loop samples every step without allocating).
  std::vector<int32_t> ids_;
  std::vector<double> probs_;
  std::vector<double> weights_;  // Per token id: its unnormalised probability.
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_SAMPLER_H_
