#include "model/model_stats.h"

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

}  // namespace

int64_t WeightBytesPerDecodeToken(const ModelConfig& c) {
  const int64_t per_layer = AttentionParams(c) * 2 + int64_t{c.num_experts} * c.hidden_size * 2 +
                            int64_t{c.experts_per_token} * ExpertParams(c) / 32 * 17;
  return per_layer * c.num_layers + int64_t{c.vocab_size} * c.hidden_size * 2 + int64_t{c.hidden_size} * 2;
}

int64_t ActiveMatmulParamsPerToken(const ModelConfig& c) {
  const int64_t per_layer = AttentionParams(c) + int64_t{c.num_experts} * c.hidden_size +
                            int64_t{c.experts_per_token} * ExpertParams(c);
  return per_layer * c.num_layers + int64_t{c.vocab_size} * c.hidden_size;
}

}  // namespace warden::model
