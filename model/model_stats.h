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

// Multiply-accumulate weights one token passes through (active parameters of the matmuls),
// so a token costs 2x this many FLOPs, excluding attention scores.
int64_t ActiveMatmulParamsPerToken(const ModelConfig& config);

}  // namespace warden::model

#endif  // WARDEN_MODEL_MODEL_STATS_H_
