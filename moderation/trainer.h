// Trains a FastModel: one-vs-rest logistic regression with AdaGrad over hashed features,
// deterministic for a given seed and data order. A fixed share of the training rows (by a
// hash of the text) is held back as development data to choose per-category thresholds on
// the quantised model, so the caller's held-out data stays untouched.
//
// Thread safety: Train is a pure function of its arguments (single-threaded).
#ifndef WARDEN_MODERATION_TRAINER_H_
#define WARDEN_MODERATION_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/dataset.h"
#include "moderation/fast_model.h"
#include "moderation/train_common.h"

namespace warden::moderation {

struct TrainOptions {
  uint64_t seed = 1;
  int epochs = 6;
  float learning_rate = 0.3f;
  FeatureConfig features;
  // The shipped weights are the mean of the weights at the end of each epoch from this
  // one (1-based) on; averaging iterates smooths the noise of the last updates.
  int average_from_epoch = 0;  // 0 = no averaging (the final weights)
  // L2 penalty applied to the weights of the features present in an example (sparse L2).
  float l2 = 0.001f;
  // Positives of a category are weighted by sqrt(negatives / positives), capped here.
  float max_positive_weight = 3.0f;
  // Rows of a source with n rows are weighted (source_balance_rows / n)^0.5, clamped to
  // [0.25, max_source_weight], so that no single large source dominates; 0 disables balancing.
  int source_balance_rows = 2000;
  // The largest source weight (the clamp above): how much more a row of a small source
  // counts than a row of a source with source_balance_rows rows.
  float max_source_weight = 4.0f;
  // Sources named "<group>/<name>" count as the one source <group> for that weight
  // (SourceWeightGroup in train_common.h): all authored files share one weight.
  bool group_sources = false;
  // Learn per-source bias offsets during training (SourceOffsets in train_common.h) so that
  // a source's label rate is not learnt by the n-grams of its register.
  bool source_offsets = false;
  // Percent of rows (by hash of the text or group, DevSplit) used only to choose thresholds.
  int dev_percent = 10;
  DevSplit dev_split = DevSplit::kText;
  // F-beta maximised by the threshold choice; beta < 1 favours precision (fewer
  // over-blocks).
  double threshold_beta = 0.5;
  // Categories with fewer development positives than this get their parent category's
  // threshold ("self-harm" for "self-harm/intent") if that was chosen on data, else
  // `fallback_threshold`.
  int min_dev_positives = 8;
  float fallback_threshold = 0.5f;
  // Chosen thresholds are never below this: a threshold picked on a handful of
  // development positives can be very low and would flag much benign text.
  float min_threshold = 0.2f;
  std::string id = "warden-fast";
};

struct TrainReport {
  int train_rows = 0;
  int dev_rows = 0;
  std::vector<double> epoch_loss;  // mean log loss over known labels, per epoch
};

// InvalidArgument for an empty data set or invalid options.
absl::StatusOr<FastModel> Train(const std::vector<Example>& examples, const TrainOptions& options,
                                TrainReport* report = nullptr);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_TRAINER_H_
