// Softmax attention of one query head over a list of key/value rows, with an attention
// sink: an extra softmax logit that takes probability mass but contributes no value
// (gpt-oss). Two implementations compute the same result (to float rounding): a portable
// one and an AVX-512 one (vectorised dot products and exp, for head widths 16, 32, ..., 128;
// other widths run portably); AttendHead picks at run time.
// Thread-safe: only reads its inputs and writes `out` and `scores`.
#ifndef WARDEN_MODEL_KERNELS_ATTENTION_H_
#define WARDEN_MODEL_KERNELS_ATTENTION_H_

#include "model/kernels/mxfp4.h"  // KernelIsa

namespace warden::model {

struct AttentionHeadInput {
  const float* query = nullptr;          // head_dim floats
  const float* const* keys = nullptr;    // n rows of head_dim floats
  const float* const* values = nullptr;  // n rows of head_dim floats
  int n = 0;                             // visible positions, >= 0
  int head_dim = 0;
  float scale = 1.0f;  // applied to q.k before the softmax
  float sink = 0.0f;   // the sink logit (not scaled)
};

// out[i] = sum_p softmax_p * values[p][i], the softmax over {scale * q.k_p} and the sink.
// `scores` is caller scratch of at least n floats.
void AttendHead(const AttentionHeadInput& in, float* scores, float* out, KernelIsa isa = KernelIsa::kBest);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_ATTENTION_H_
