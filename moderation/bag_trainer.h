// Trains a BagModel (bag_model.h): hashed-feature embeddings, an optional hidden ReLU layer
// and a multi-label sigmoid head for every category, by AdaGrad on the weighted log loss
// of the known labels (unknown labels contribute nothing). Deterministic for a given seed
// and data order. As in trainer.h, a share of the rows (by text hash) is kept back to
// choose thresholds on the quantised model.
//
// Thread safety: TrainBag is a pure function of its arguments (single-threaded).
#ifndef WARDEN_MODERATION_BAG_TRAINER_H_
#define WARDEN_MODERATION_BAG_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/bag_model.h"
#include "moderation/dataset.h"
#include "moderation/train_common.h"

namespace warden::moderation {

struct BagTrainOptions {
  uint64_t seed = 1;
  int epochs = 6;
  float learning_rate = 0.1f;
  FeatureConfig features;
  uint32_t dim = 32;
  uint32_t hidden = 0;
  Hierarchy hierarchy = Hierarchy::kNone;
  // Sparse L2 on the embeddings of the features present in an example and on the head.
  float l2 = 0.0001f;
  // Each feature occurrence of a training example is dropped with this probability, anew
  // every time the example is seen (a regulariser: no single n-gram can carry a label).
  float feature_dropout = 0.0f;
  float max_positive_weight = 3.0f;  // as TrainOptions
  int source_balance_rows = 2000;    // as TrainOptions
  bool source_offsets = false;       // as TrainOptions
  float max_source_weight = 4.0f;    // as TrainOptions
  bool group_sources = false;        // as TrainOptions
  int dev_percent = 10;              // as TrainOptions
  DevSplit dev_split = DevSplit::kText;  // as TrainOptions
  ThresholdOptions thresholds;
  std::string id = "warden-bag";
};

struct BagTrainReport {
  int train_rows = 0;
  int dev_rows = 0;
  std::vector<double> epoch_loss;  // mean log loss over known labels, per epoch
};

// InvalidArgument for an empty data set or invalid options.
absl::StatusOr<BagModel> TrainBag(const std::vector<Example>& examples,
                                  const BagTrainOptions& options, BagTrainReport* report = nullptr);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_BAG_TRAINER_H_
