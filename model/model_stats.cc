#include "model/model_stats.h"

#include <algorithm>
#include <cmath>

namespace warden::model {
namespace {

int64_t AttentionParams(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = int64_t{c.num_heads} * c.head_dim,
                kv = int64_t{c.num_kv_heads} * c.head_dim;
  return h * q * 2 + h * kv * 2;
}

int64_t ExpertParams(const ModelConfig& c) {
  return int64_t{3} * c.hidden_size * c.intermediate_size;  // [2I, H] + [H, I]
}

// Weight bytes of one step that reads `experts_per_layer` experts in every layer and
// `tokens` embedding rows; everything else once.
double StepBytes(const ModelConfig& c, bool int8_dense, double experts_per_layer, int tokens) {
  const int64_t dense_bytes = int8_dense ? 1 : 2;
  const int64_t h = c.hidden_size, q = int64_t{c.num_heads} * c.head_dim, kv = int64_t{c.num_kv_heads} * c.head_dim;
  const int64_t scale_bytes = int8_dense ? 4 * (q + 2 * kv + h) : 0;  // one float per output row
  const double per_layer = static_cast<double>(AttentionParams(c) * dense_bytes + scale_bytes +
                                               int64_t{c.num_experts} * h * 2) +
                           experts_per_layer * static_cast<double>(ExpertParams(c) / 32 * 17);
  const int64_t lm_head = int64_t{c.vocab_size} * h * dense_bytes + (int8_dense ? 4 * int64_t{c.vocab_size} : 0);
  return per_layer * c.num_layers + static_cast<double>(lm_head + h * 2 * int64_t{tokens});
}

}  // namespace

int64_t WeightBytesPerDecodeToken(const ModelConfig& c, bool int8_dense) {
  return static_cast<int64_t>(StepBytes(c, int8_dense, c.experts_per_token, 1));
}

double ExpectedWeightBytesPerDecodeStep(const ModelConfig& c, int batch, bool int8_dense) {
  batch = std::max(batch, 1);
  double distinct = c.experts_per_token;  // a configuration the loader would refuse: no batching gain
  if (c.num_experts > 0 && c.experts_per_token <= c.num_experts) {
    const double unpicked = 1.0 - static_cast<double>(c.experts_per_token) / c.num_experts;
    distinct = c.num_experts * (1.0 - std::pow(unpicked, batch));
  }
  return StepBytes(c, int8_dense, distinct, batch);
}

int64_t ActiveMatmulParamsPerToken(const ModelConfig& c) {
  const int64_t per_layer = AttentionParams(c) + int64_t{c.num_experts} * c.hidden_size +
                            int64_t{c.experts_per_token} * ExpertParams(c);
  return per_layer * c.num_layers + int64_t{c.vocab_size} * c.hidden_size;
}

}  // namespace warden::model
