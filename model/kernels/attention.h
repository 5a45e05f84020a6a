// Softmax attention of one query head over a list of key/value rows, with an attention
// sink: an extra softmax logit that takes probability mass but contributes no value
// (gpt-oss). Three implementations compute the same result (to float rounding): a portable
// one, an AVX-512 one (vectorised dot products and exp, for head widths 16, 32, ..., 128) and
// an AVX2 one for CPUs without AVX-512 (attention_avx2.h; head widths 8, 16, ..., 128); other
// widths run portably. AttendHead picks at run time. AttendHeads runs the query heads
// that share a key/value head together (measured: a 4,096-token prompt on the full 20b shape
// prefilled 30.5 -> 49.4 tokens/s, decode at that context 2.53 -> 3.14 tokens/s).
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

// Several query heads over the same key/value rows (grouped-query attention: the heads
// that share one key/value head).
struct AttentionGroupInput {
  const float* queries = nullptr;        // heads * head_dim floats, head after head
  const float* sinks = nullptr;          // heads sink logits
  int heads = 0;
  const float* const* keys = nullptr;    // n rows of head_dim floats
  const float* const* values = nullptr;  // n rows of head_dim floats
  int n = 0;
  int head_dim = 0;
  float scale = 1.0f;
};

// AttendHead for each head, into out[head * head_dim ...]; the results are bit for bit
// AttendHead's. The vector code takes the positions in blocks and all heads per block, so
// each key and value row is read from memory once per group rather than once per head
// (the rows of a long context do not fit L1). `scores` is caller scratch of at least
// heads * n floats.
void AttendHeads(const AttentionGroupInput& in, float* scores, float* out, KernelIsa isa = KernelIsa::kBest);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_ATTENTION_H_
