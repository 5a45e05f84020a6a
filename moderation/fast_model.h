// The parameters of the fast classifier: a one-vs-rest logistic regression over hashed
// n-gram features, with int8 weights and per-category scales.
//
// score_c(text) = sigmoid(bias[c] + scale[c] * sum_f weights[f * kNumCategories + c] / sqrt(n))
// where f runs over the n feature occurrences of the folded text.
#ifndef WARDEN_MODERATION_FAST_MODEL_H_
#define WARDEN_MODERATION_FAST_MODEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "moderation/features.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

// Plain value type; copyable; no invariants beyond those checked by ValidateFastModel.
struct FastModel {
  FeatureConfig features;
  uint32_t text_fold_version = 0;
  std::string id;  // Free-form identifier, e.g. "default-2026-11-25".
  std::array<float, kNumCategories> bias{};
  std::array<float, kNumCategories> scale{};
  // Recommended flag threshold per category, chosen on development data, in (0, 1].
  std::array<float, kNumCategories> threshold{};
  // Row-major [bucket][category], (1 << features.buckets_log2) * kNumCategories entries.
  std::vector<int8_t> weights;
};

// InvalidArgument naming the first inconsistent field (size of weights, thresholds out of
// range, non-finite bias or scale, bad feature config).
absl::Status ValidateFastModel(const FastModel& model);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_FAST_MODEL_H_
