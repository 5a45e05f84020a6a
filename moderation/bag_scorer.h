// The forward pass of the embedding-bag classifier (bag_model.h) on extracted features.
// Shared by FastClassifier (scoring) and the trainer (thresholds are chosen on the
// quantised model exactly as it will score).
#ifndef WARDEN_MODERATION_BAG_SCORER_H_
#define WARDEN_MODERATION_BAG_SCORER_H_

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "moderation/bag_model.h"

namespace warden::moderation {

// Thread safety: immutable after construction; Scores may run concurrently from any number
// of threads. Owns its copy of the model.
class BagScorer {
 public:
  // InvalidArgument when `model` fails ValidateBagModel.
  static absl::StatusOr<BagScorer> Create(BagModel model);

  // Per-category probabilities (hierarchy applied) for the feature occurrences `features`
  // (buckets from ExtractFeatures with model().features; out-of-range buckets are ignored).
  std::array<float, kNumCategories> Scores(absl::Span<const uint32_t> features) const;

  const BagModel& model() const { return model_; }

 private:
  explicit BagScorer(BagModel model) : model_(std::move(model)) {}
  BagModel model_;
};

// acc[d] += table[f * dim + d] for every f in `features` with f < rows; dim % 8 == 0.
// Uses AVX2 when the CPU has it.
void AccumulateEmbeddingRows(const int8_t* table, size_t rows, uint32_t dim,
                             absl::Span<const uint32_t> features, int32_t* acc);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_BAG_SCORER_H_
