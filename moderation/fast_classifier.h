// The fast classifier: hashed n-gram features of folded text scored either by a quantised
// one-vs-rest logistic regression (fast_model.h) or by an embedding bag with a shared
// representation (bag_model.h), whichever kind the model file holds. About 10-50
// microseconds per kilobyte of text on one core.
#ifndef WARDEN_MODERATION_FAST_CLASSIFIER_H_
#define WARDEN_MODERATION_FAST_CLASSIFIER_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/bag_scorer.h"
#include "moderation/classifier.h"
#include "moderation/fast_model.h"
#include "moderation/model_file.h"
#include "moderation/stacking.h"

namespace warden::moderation {

// Thread safety: immutable after construction; Score and ScoreBatch may run concurrently
// from any number of threads. Owns its weights.
class FastClassifier : public Classifier {
 public:
  // Loads a .wmod file (see model_file.h); errors name the file.
  static absl::StatusOr<std::unique_ptr<FastClassifier>> Load(const std::string& path);
  // Takes a model in memory; InvalidArgument when it fails ValidateFastModel or was trained
  // with another text folding version.
  static absl::StatusOr<std::unique_ptr<FastClassifier>> FromModel(const FastModel& model);
  // The same for an embedding-bag model.
  static absl::StatusOr<std::unique_ptr<FastClassifier>> FromBagModel(const BagModel& model);
  // Any kind of model file contents; an ensemble scores with both members and averages
  // their probabilities (both must use the same text folding version), then applies its
  // stacking layer when it has one (stacking.h) and its hierarchy rule.
  static absl::StatusOr<std::unique_ptr<FastClassifier>> FromContents(
      const ModelFileContents& contents);

  // Scores one text of any length (empty text gives the bias-only scores).
  CategoryScores Score(std::string_view text) const;

  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const override;
  std::string name() const override;

  // The model's recommended per-category thresholds, index as kCategories.
  const std::array<float, kNumCategories>& default_thresholds() const { return threshold_; }

 private:
  // Weights padded to kStride bytes per bucket so one bucket is one aligned vector load.
  static constexpr int kStride = 16;
  FastClassifier() = default;

  CategoryScores ScoreLinear(const std::vector<uint32_t>& features) const;
  void InitLinear(const FastModel& model);

  bool linear_ = false;                   // the linear weights below are in use
  std::unique_ptr<const BagScorer> bag_;  // set for embedding-bag and ensemble models
  FeatureConfig features_;                // of the linear model, else of the bag
  uint32_t fold_version_ = 0;             // FoldText version the model was trained with
  Hierarchy ensemble_hierarchy_ = Hierarchy::kNone;  // applied to averaged scores
  std::optional<StackingLayer> stacking_;            // ensembles only, before the hierarchy
  std::string id_;
  std::array<float, kNumCategories> bias_{};
  std::array<float, kNumCategories> scale_{};
  std::array<float, kNumCategories> threshold_{};
  std::vector<int8_t> weights_;  // [bucket][kStride]
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_FAST_CLASSIFIER_H_
