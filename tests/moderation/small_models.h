// A small linear model (2^10 buckets, every weight 3) for the .wmod format tests; callers
// set the feature fields a test is about. Header-only, testonly.
#ifndef WARDEN_TESTS_MODERATION_SMALL_MODELS_H_
#define WARDEN_TESTS_MODERATION_SMALL_MODELS_H_

#include "moderation/model_file.h"

namespace warden::moderation::testing {

inline FastModel SmallLinearModel() {
  FastModel m;
  m.features.buckets_log2 = 10;
  m.text_fold_version = 2;
  m.id = "linear-test";
  m.scale.fill(0.01f);
  m.threshold.fill(0.5f);
  m.weights.assign((1u << 10) * kNumCategories, 3);
  return m;
}

}  // namespace warden::moderation::testing

#endif  // WARDEN_TESTS_MODERATION_SMALL_MODELS_H_
