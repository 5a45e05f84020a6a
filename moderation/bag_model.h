// The parameters of the embedding-bag ("fastText-style") fast classifier: every hashed
// n-gram feature (features.h) has an embedding; a text's representation is the sum of the
// embeddings of its feature occurrences scaled by LengthNorm(n); an optional hidden ReLU
// layer and a sigmoid head give one score per category. The representation is shared by
// all categories, so thin categories learn from related ones.
//
//   bag[d]    = LengthNorm(n) * embedding_scale[d] * sum_f embeddings[f * dim + d]
//   hidden[j] = max(0, hidden_bias[j] + sum_d hidden_weights[j * dim + d] * bag[d])  (hidden > 0)
//   logit[c]  = out_bias[c] + sum_k out_weights[c * K + k] * x[k]
// with x = hidden (K = hidden) or x = bag (K = dim, when hidden = 0). With hierarchy =
// kChildAtMostParent, a subcategory's score ("self-harm/intent") is capped at its parent's
// ("self-harm").
#ifndef WARDEN_MODERATION_BAG_MODEL_H_
#define WARDEN_MODERATION_BAG_MODEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "moderation/features.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

enum class Hierarchy : uint32_t {
  kNone = 0,
  kChildAtMostParent = 1,  // score(child) = min(score(child), score(parent))
};

// Plain value type; copyable; consistency is checked by ValidateBagModel.
struct BagModel {
  FeatureConfig features;
  uint32_t text_fold_version = 0;
  std::string id;
  uint32_t dim = 32;     // embedding width, a multiple of 8 in [8, 256]
  uint32_t hidden = 0;   // hidden ReLU units, 0 = head directly on the bag, at most 512
  Hierarchy hierarchy = Hierarchy::kNone;
  std::array<float, kNumCategories> threshold{};  // in (0, 1]
  std::vector<float> embedding_scale;             // dim
  std::vector<int8_t> embeddings;                 // [bucket][dim]
  std::vector<float> hidden_weights;              // [hidden][dim]
  std::vector<float> hidden_bias;                 // hidden
  std::vector<float> out_weights;                 // [category][K]
  std::array<float, kNumCategories> out_bias{};
};

// Number of inputs of the head: `hidden` when there is a hidden layer, else `dim`.
inline uint32_t HeadInputs(const BagModel& model) {
  return model.hidden > 0 ? model.hidden : model.dim;
}

// The largest magnitude a float parameter may have. Trained models stay far below it; with
// every parameter within it, a scoring's sums stay finite (|embedding sum| < 2^31, so the
// bag < 2.2e12, a hidden unit < 5.6e17, a logit < 2.9e23).
inline constexpr float kBagMaxParameter = 1000.0f;

// InvalidArgument naming the first inconsistent field (a size that does not match dim,
// hidden or buckets, a non-finite parameter or one beyond kBagMaxParameter, a threshold
// outside (0, 1], an unknown hierarchy mode, a bad feature config).
absl::Status ValidateBagModel(const BagModel& model);

// Index of the parent category of kCategories[c] ("self-harm" for "self-harm/intent"), or
// -1 for a top-level category.
int ParentCategoryIndex(int c);

// Applies `mode` to scores indexed as kCategories (parents are never changed).
void ApplyHierarchy(Hierarchy mode, std::array<float, kNumCategories>& scores);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_BAG_MODEL_H_
