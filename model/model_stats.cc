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

int64_t WeightBytesPerDecodeToken(const ModelConfig& c, bool int8_dense) {
  const int64_t dense_bytes = int8_dense ? 1 : 2;
  const int64_t h = c.hidden_size, q = int64_t{c.num_heads} * c.head_dim, kv = int64_t{c.num_kv_heads} * c.head_dim;
  const int64_t scale_bytes = int8_dense ? 4 * (q + 2 * kv + h) : 0;  // one float per output row
  const int64_t per_layer = AttentionParams(c) * dense_bytes + scale_bytes + int64_t{c.num_experts} * h * 2 +
                            int64_t{c.experts_per_token} * ExpertParams(c) / 32 * 17;
  const int64_t lm_head = int64_t{c.vocab_size} * h * dense_bytes + (int8_dense ? 4 * int64_t{c.vocab_size} : 0);
  return per_layer * c.num_layers + lm_head + h * 2;
}

int64_t ActiveMatmulParamsPerToken(const ModelConfig& c) {
  const int64_t per_layer = AttentionParams(c) + int64_t{c.num_experts} * c.hidden_size +
                            int64_t{c.experts_per_token} * ExpertParams(c);
  return per_layer * c.num_layers + int64_t{c.vocab_size} * c.hidden_size;
}

}  // namespace warden::model
