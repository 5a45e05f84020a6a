// The stacking layer of an ensemble model (default-v7): a second stage that reads all
// fifteen first-stage logits and adjusts each category's logit by a learnt linear term.
//
// A thin subcategory is mostly a conjunction of signals the first stage learns from
// thousands of rows (hate/threatening ~ hate and threatening; illicit/violent ~ illicit and
// violence), so a small linear layer over every category's logit can learn it from the few
// subcategory positives. With z_j = logit(p_j) of the first-stage probabilities p:
//
//   stacked logit_c = z_c + bias_c + sum_j weight[c][j] * z_j
//
// A category whose adjustment (bias_c + sum_j ...) is exactly zero keeps its first-stage
// probability bit for bit, so a layer of zeros changes nothing.
//
// Thread safety: StackingLayer is a plain value; the functions are pure.
#ifndef WARDEN_MODERATION_STACKING_H_
#define WARDEN_MODERATION_STACKING_H_

#include <array>

#include "absl/status/status.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

struct StackingLayer {
  std::array<float, kNumCategories> bias{};
  // weight[c * kNumCategories + j]: how much category j's logit moves category c's.
  std::array<float, kNumCategories * kNumCategories> weight{};
};

// First-stage logits are clamped to +-kStackingMaxLogit (probabilities within about 1e-6
// of 0 or 1), so a saturated score cannot dominate the sum.
inline constexpr float kStackingMaxLogit = 13.8f;

// InvalidArgument when a value is not finite or larger in magnitude than
// kStackingMaxParameter (a layer that large was not fitted by the trainer).
inline constexpr float kStackingMaxParameter = 1000.0f;
absl::Status ValidateStackingLayer(const StackingLayer& layer);

// The clamped logit of a probability.
float StackingLogit(float probability);

// Replaces first-stage probabilities `scores` (index as kCategories) by stacked ones.
void ApplyStacking(const StackingLayer& layer, std::array<float, kNumCategories>& scores);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_STACKING_H_
