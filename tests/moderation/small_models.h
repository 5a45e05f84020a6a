// Small linear and embedding-bag models for the .wmod format tests; callers set the
// feature fields a test is about. Header-only, testonly.
#ifndef WARDEN_TESTS_MODERATION_SMALL_MODELS_H_
#define WARDEN_TESTS_MODERATION_SMALL_MODELS_H_

#include "moderation/bag_model.h"
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

// A small embedding-bag model (2^10 buckets, 8 dimensions, deterministic weights).
inline BagModel SmallBagModel(uint32_t repeats) {
  BagModel m;
  m.features.buckets_log2 = 10;
  m.features.length_norm = 2;
  m.features.repeats = repeats;
  m.text_fold_version = 2;
  m.id = "bag-test";
  m.dim = 8;
  for (int c = 0; c < kNumCategories; ++c) {
    m.threshold[c] = 0.4f;
    m.out_bias[c] = -1.0f;
  }
  m.embedding_scale.assign(m.dim, 0.01f);
  m.embeddings.resize((size_t{1} << 10) * m.dim);
  for (size_t i = 0; i < m.embeddings.size(); ++i) m.embeddings[i] = static_cast<int8_t>(i % 50);
  m.out_weights.assign(size_t{HeadInputs(m)} * kNumCategories, 0.05f);
  return m;
}

}  // namespace warden::moderation::testing

#endif  // WARDEN_TESTS_MODERATION_SMALL_MODELS_H_
