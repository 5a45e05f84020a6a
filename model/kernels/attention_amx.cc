#include "model/kernels/attention_amx.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/kernels/cpu_features.h"
#include "model/kernels/softmax_avx512.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {
namespace {

int RoundUp(int n, int multiple) { return (n + multiple - 1) / multiple * multiple; }

// One query vector's softmax over its visible scores, with the sink: weights[p] =
// exp(scale * scores[p] - max) / denominator for p < visible, 0 up to `width`.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void SoftmaxRow(const float* scores, int visible,
                                                                             float scale, float sink, int width,
                                                                             float* weights) {
  const __m512 scale_v = _mm512_set1_ps(scale);
  __m512 max_v = _mm512_set1_ps(sink);
  int p = 0;
  for (; p + 16 <= visible; p += 16) {
    const __m512 s = _mm512_mul_ps(_mm512_loadu_ps(scores + p), scale_v);
    _mm512_storeu_ps(weights + p, s);
    max_v = _mm512_maskz_max_ps(row_kernels::kAllLanes, max_v, s);
  }
  for (; p < visible; ++p) {
    weights[p] = scores[p] * scale;
    max_v = _mm512_maskz_max_ps(row_kernels::kAllLanes, max_v, _mm512_set1_ps(weights[p]));
  }
  alignas(64) float lanes[16];  // (GCC 12's _mm512_reduce_max_ps trips -Wmaybe-uninitialized)
  _mm512_store_ps(lanes, max_v);
  const float max = *std::max_element(lanes, lanes + 16);
  const float sum = softmax_avx512::ExpInPlaceAvx512(weights, visible, max) + std::exp(sink - max);
  const __m512 inverse = _mm512_set1_ps(1.0f / sum);
  for (p = 0; p + 16 <= visible; p += 16) _mm512_storeu_ps(weights + p, _mm512_mul_ps(_mm512_loadu_ps(weights + p), inverse));
  for (; p < visible; ++p) weights[p] /= sum;
  std::fill(weights + visible, weights + width, 0.0f);
}

}  // namespace

bool AmxAttentionAvailable(int head_dim) {
  return head_dim > 0 && head_dim % amx_dense::kTileDepth == 0 && head_dim % amx_dense::kTileRows == 0 &&
         CpuHasAvx512() && amx_dense::Available();
}

void AmxAttentionKv::Load(const float* const* keys, const float* const* values, int n, int head_dim) {
  n_ = n;
  head_dim_ = head_dim;
  key_rows_ = RoundUp(n, amx_dense::kTileRows);
  value_cols_ = RoundUp(n, amx_dense::kTileDepth);
  keys_.resize(static_cast<size_t>(key_rows_) * head_dim);
  values_t_.resize(static_cast<size_t>(head_dim) * value_cols_);
  for (int p = 0; p < n; ++p) {
    uint16_t* row = keys_.data() + static_cast<size_t>(p) * head_dim;
    for (int i = 0; i < head_dim; ++i) row[i] = FloatToBf16(keys[p][i]);
  }
  std::fill(keys_.begin() + static_cast<size_t>(n) * head_dim, keys_.end(), uint16_t{0});
  for (int i = 0; i < head_dim; ++i) {
    uint16_t* column = values_t_.data() + static_cast<size_t>(i) * value_cols_;
    for (int p = 0; p < n; ++p) column[p] = FloatToBf16(values[p][i]);
    std::fill(column + n, column + value_cols_, uint16_t{0});
  }
}

void AttendRowsAmx(const AmxAttentionKv& kv, const AmxAttentionRows& in, AmxAttentionScratch* scratch) {
  const int d = kv.head_dim(), queries = in.rows * in.heads;
  int widest = 0;
  for (int r = 0; r < in.rows; ++r) widest = std::max(widest, in.visible[r]);
  // Scores for the keys some row sees, in whole tiles of keys.
  const int score_rows = RoundUp(widest, amx_dense::kTileRows);
  scratch->queries.resize(static_cast<size_t>(queries) * d);
  for (int r = 0; r < in.rows; ++r) {
    std::memcpy(&scratch->queries[static_cast<size_t>(r) * in.heads * d], in.queries + r * in.query_stride,
                sizeof(float) * in.heads * d);
  }
  amx_dense::Pack(scratch->queries.data(), queries, d, &scratch->packed_queries, amx_dense::Bf16Parts::kHiOnly);
  // scores[q * key_rows + p] = q . key p (unscaled)
  scratch->scores.resize(static_cast<size_t>(queries) * kv.key_rows());
  amx_dense::RowsFromBuffer(kv.keys(), kv.key_rows(), d, scratch->packed_queries, nullptr, scratch->scores.data(), 0,
                            score_rows);
  // The softmax weights over every key column of the values (zero past what a row sees).
  const int width = kv.value_cols();
  scratch->weights.resize(static_cast<size_t>(queries) * width);
  for (int q = 0; q < queries; ++q) {
    const int r = q / in.heads, h = q % in.heads;
    SoftmaxRow(&scratch->scores[static_cast<size_t>(q) * kv.key_rows()], in.visible[r], in.scale, in.sinks[h], width,
               &scratch->weights[static_cast<size_t>(q) * width]);
  }
  amx_dense::Pack(scratch->weights.data(), queries, width, &scratch->packed_weights, amx_dense::Bf16Parts::kHiOnly);
  // out[q * d + i] = sum_p weights[q][p] * value p [i]: the transposed values are W.
  scratch->out.resize(static_cast<size_t>(queries) * d);
  amx_dense::RowsFromBuffer(kv.values_transposed(), d, width, scratch->packed_weights, nullptr, scratch->out.data(),
                            0, d);
  for (int r = 0; r < in.rows; ++r) {
    std::memcpy(in.out + r * in.out_stride, &scratch->out[static_cast<size_t>(r) * in.heads * d],
                sizeof(float) * in.heads * d);
  }
}

}  // namespace warden::model
