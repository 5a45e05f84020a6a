// Size arithmetic of a gpt-oss configuration, for benchmarks (bytes each decode token
// reads, FLOPs each token costs). Thread safety: pure functions.
#ifndef WARDEN_MODEL_MODEL_STATS_H_
#define WARDEN_MODEL_MODEL_STATS_H_

#include <cstdint>

#include "model/config.h"

namespace warden::model {

// Weight bytes one decode token reads: attention and router matrices (bf16), the selected
// experts (MXFP4 blocks + scales), lm_head (bf16) and one embedding row. Excludes the KV
// cache and the small vectors. `int8_dense`: the fast weight mode, whose attention and
// lm_head copies are int8 with one float scale per row.
int64_t WeightBytesPerDecodeToken(const ModelConfig& config, bool int8_dense = false);

// Weight bytes one decode step of `batch` sequences is expected to read when each token is
// routed to experts_per_token of num_experts independently and uniformly (random weights
// route so; a trained model's routing is more correlated): each dense matrix once, and per
// layer the expected number of distinct experts, E * (1 - (1 - k/E)^batch). With batch 1
// it is WeightBytesPerDecodeToken. batch * bytes(1) / bytes(batch) is then the most that
// batching can multiply a bandwidth-bound decode's throughput by.
double ExpectedWeightBytesPerDecodeStep(const ModelConfig& config, int batch, bool int8_dense = false);

// Multiply-accumulate weights one token passes through (active parameters of the matmuls),
// so a token costs 2x this many FLOPs, excluding attention scores.
int64_t ActiveMatmulParamsPerToken(const ModelConfig& config);

}  // namespace warden::model

#endif  // WARDEN_MODEL_MODEL_STATS_H_
