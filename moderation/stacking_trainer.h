// Fits a StackingLayer (stacking.h) by L2-regularised logistic regression on first-stage
// scores of rows the first stage never trained on (the development rows).
//
// Each category is an independent regression with 16 parameters (its bias and one weight
// per category's logit) and the category's own first-stage logit as a fixed offset, so the
// L2 penalty pulls toward the unstacked model. Rows whose label of the category is unknown
// contribute nothing; each row counts with its weight (the trainers' source weights).
// Solved by Newton's method with a backtracking line search in double precision: no random
// numbers, so the same rows give the same layer bit for bit.
//
// Thread safety: pure function.
#ifndef WARDEN_MODERATION_STACKING_TRAINER_H_
#define WARDEN_MODERATION_STACKING_TRAINER_H_

#include <array>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/dataset.h"
#include "moderation/stacking.h"

namespace warden::moderation {

// Which first-stage logits a category's regression may use.
enum class StackingInputs {
  kAll,       // every category's logit, for every category
  kPartners,  // subcategories only, each from its parent and the signals it is a
              // conjunction of (StackingPartners); parent categories stay unstacked
};

// The categories whose logits category `c` reads under kPartners (besides its own);
// empty for a parent category. E.g. hate/threatening: hate, harassment/threatening,
// violence; illicit/violent: illicit, violence.
std::vector<int> StackingPartners(int c);

struct StackingTrainOptions {
  StackingInputs inputs = StackingInputs::kAll;
  double l2 = 0.001;        // on every parameter, with the loss a weighted mean over rows
  int min_positives = 8;    // fewer positives (or no negatives): the category stays unstacked
  int max_iterations = 50;  // Newton steps per category
};

// `scores[i]` are the first-stage probabilities of `rows[i]`, `row_weight[i]` its weight.
// InvalidArgument when the three sizes differ or an option is out of range.
absl::StatusOr<StackingLayer> FitStacking(const std::vector<const Example*>& rows,
                                          const std::vector<std::array<float, kNumCategories>>& scores,
                                          const std::vector<float>& row_weight,
                                          const StackingTrainOptions& options);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_STACKING_TRAINER_H_
