#include "model/kernels/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/kernels/attention_avx2.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/softmax_avx512.h"
#include "model/kernels/softmax_scores.h"
#include "model/kernels/row_kernels.h"

namespace warden::model {
namespace {

using row_kernels::kAllLanes;
using row_kernels::SumLanes;
using softmax_avx512::ExpInPlaceAvx512;
using softmax_scores::ExpScoresAndInverse;

void AttendPortable(const AttentionHeadInput& in, float* scores, float* out) {
  const int d = in.head_dim;
  float max = in.sink;
  for (int p = 0; p < in.n; ++p) {
    float dot = 0.0f;
    for (int i = 0; i < d; ++i) dot += in.query[i] * in.keys[p][i];
    scores[p] = dot * in.scale;
    max = std::max(max, scores[p]);
  }
  float denominator = std::exp(in.sink - max);
  for (int p = 0; p < in.n; ++p) {
    scores[p] = std::exp(scores[p] - max);
    denominator += scores[p];
  }
  std::fill(out, out + d, 0.0f);
  for (int p = 0; p < in.n; ++p) {
    const float weight = scores[p] / denominator;
    for (int i = 0; i < d; ++i) out[i] += weight * in.values[p][i];
  }
}

// The lane sums of 16 vectors as one vector: result lane j = sum of v[j]'s lanes. A
// shuffle-and-add tree (45 instructions) instead of 16 separate horizontal sums.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512 SumLanes16(const __m512* v) {
  __m512 pairs[8];  // per 128-bit lane: two partial sums of v[2i] and of v[2i+1]
  for (int i = 0; i < 8; ++i) {
    pairs[i] = _mm512_add_ps(_mm512_maskz_unpacklo_ps(kAllLanes, v[2 * i], v[2 * i + 1]),
                             _mm512_maskz_unpackhi_ps(kAllLanes, v[2 * i], v[2 * i + 1]));
  }
  __m512 quads[4];  // per 128-bit lane: one partial sum of each of v[4i..4i+3]
  for (int i = 0; i < 4; ++i) {
    quads[i] = _mm512_add_ps(_mm512_maskz_shuffle_ps(kAllLanes, pairs[2 * i], pairs[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_maskz_shuffle_ps(kAllLanes, pairs[2 * i], pairs[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // Sum the four 128-bit lanes of each quad, placing quad i in lane i.
  const __m512 s01 = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAllLanes, quads[0], quads[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_maskz_shuffle_f32x4(kAllLanes, quads[0], quads[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 s23 = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAllLanes, quads[2], quads[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_maskz_shuffle_f32x4(kAllLanes, quads[2], quads[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAllLanes, s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_maskz_shuffle_f32x4(kAllLanes, s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Dot products and the weighted sum of values for head_dim = 16 * kVecs, with the output
// accumulators held in registers across all positions.
template <int kVecs>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512 DotAvx512(const __m512* q,
                                                                                      const float* key) {
  __m512 acc = _mm512_mul_ps(q[0], _mm512_loadu_ps(key));
#pragma GCC unroll 8
  for (int j = 1; j < kVecs; ++j) acc = _mm512_fmadd_ps(q[j], _mm512_loadu_ps(key + 16 * j), acc);
  return acc;
}

template <int kVecs>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void ScoresAvx512(
    const AttentionHeadInput& in, float* scores) {
  __m512 q[kVecs];
  for (int j = 0; j < kVecs; ++j) q[j] = _mm512_loadu_ps(in.query + 16 * j);
  const __m512 scale = _mm512_set1_ps(in.scale);
  int p = 0;
  for (; p + 16 <= in.n; p += 16) {  // 16 positions at a time, summed by one tree
    __m512 dots[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) dots[i] = DotAvx512<kVecs>(q, in.keys[p + i]);
    _mm512_storeu_ps(scores + p, _mm512_mul_ps(SumLanes16(dots), scale));
  }
  for (; p < in.n; ++p) scores[p] = SumLanes(DotAvx512<kVecs>(q, in.keys[p])) * in.scale;
}

// out = scale * sum_p weights[p] * values[p]. Two accumulator sets (even and odd
// positions) keep two FMA chains per output vector in flight.
template <int kVecs>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void WeightedValuesAvx512(
    const AttentionHeadInput& in, const float* weights, float scale, float* out) {
  __m512 even[kVecs], odd[kVecs];
  for (int j = 0; j < kVecs; ++j) even[j] = odd[j] = _mm512_setzero_ps();
  int p = 0;
  for (; p + 2 <= in.n; p += 2) {
    const __m512 w0 = _mm512_set1_ps(weights[p]), w1 = _mm512_set1_ps(weights[p + 1]);
#pragma GCC unroll 8
    for (int j = 0; j < kVecs; ++j) {
      even[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(in.values[p] + 16 * j), even[j]);
      odd[j] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(in.values[p + 1] + 16 * j), odd[j]);
    }
  }
  if (p < in.n) {
    const __m512 w0 = _mm512_set1_ps(weights[p]);
    for (int j = 0; j < kVecs; ++j) even[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(in.values[p] + 16 * j), even[j]);
  }
  const __m512 s = _mm512_set1_ps(scale);
  for (int j = 0; j < kVecs; ++j) _mm512_storeu_ps(out + 16 * j, _mm512_mul_ps(_mm512_add_ps(even[j], odd[j]), s));
}

template <int kVecs>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void AttendAvx512(const AttentionHeadInput& in,
                                                                                float* scores, float* out) {
  ScoresAvx512<kVecs>(in, scores);
  const float inverse = ExpScoresAndInverse(scores, in.n, in.sink, ExpInPlaceAvx512);
  WeightedValuesAvx512<kVecs>(in, scores, inverse, out);
}

// Positions per block of AttendGroupAvx512: 64 key or value rows of 64 floats are 16 KB,
// which stay in L1 while every head of the group reads them.
constexpr int kGroupBlock = 64;
// Heads per group the grouped kernel keeps state for (gpt-oss: 8); more run head by head.
constexpr int kMaxGroupHeads = 64;

// AttendAvx512 for every head of a group, with the same operations in the same order per
// head (so the same bits): scores in blocks of positions with all heads per block; the
// softmax per head; the weighted values in blocks, each head's two accumulator sets kept
// in `state` between blocks (float32 stores and loads change no value).
template <int kVecs>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void AttendGroupAvx512(const AttentionGroupInput& in,
                                                                                     float* scores, float* out) {
  const int d = in.head_dim, n = in.n;
  AttentionHeadInput head_in;
  head_in.n = n;
  head_in.head_dim = d;
  head_in.scale = in.scale;
  for (int b = 0; b < n; b += kGroupBlock) {
    const int count = std::min(kGroupBlock, n - b);
    head_in.keys = in.keys + b;
    head_in.n = count;
    for (int h = 0; h < in.heads; ++h) {
      head_in.query = in.queries + h * d;
      ScoresAvx512<kVecs>(head_in, scores + static_cast<size_t>(h) * n + b);
    }
  }
  float inverse[kMaxGroupHeads];
  for (int h = 0; h < in.heads; ++h) {
    inverse[h] = ExpScoresAndInverse(scores + static_cast<size_t>(h) * n, n, in.sinks[h], ExpInPlaceAvx512);
  }
  // Accumulators per head: even[kVecs], odd[kVecs], as WeightedValuesAvx512 keeps them.
  alignas(64) float state[kMaxGroupHeads][2][kVecs][16];
  for (int h = 0; h < in.heads; ++h) {
    for (int j = 0; j < kVecs; ++j) {
      _mm512_store_ps(state[h][0][j], _mm512_setzero_ps());
      _mm512_store_ps(state[h][1][j], _mm512_setzero_ps());
    }
  }
  for (int b = 0; b < n; b += kGroupBlock) {  // kGroupBlock is even: pairs stay pairs
    const int end = std::min(n, b + kGroupBlock);
    for (int h = 0; h < in.heads; ++h) {
      const float* weights = scores + static_cast<size_t>(h) * n;
      __m512 even[kVecs], odd[kVecs];
      for (int j = 0; j < kVecs; ++j) {
        even[j] = _mm512_load_ps(state[h][0][j]);
        odd[j] = _mm512_load_ps(state[h][1][j]);
      }
      int p = b;
      for (; p + 2 <= end; p += 2) {
        const __m512 w0 = _mm512_set1_ps(weights[p]), w1 = _mm512_set1_ps(weights[p + 1]);
#pragma GCC unroll 8
        for (int j = 0; j < kVecs; ++j) {
          even[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(in.values[p] + 16 * j), even[j]);
          odd[j] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(in.values[p + 1] + 16 * j), odd[j]);
        }
      }
      if (p < end) {
        const __m512 w0 = _mm512_set1_ps(weights[p]);
        for (int j = 0; j < kVecs; ++j) even[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(in.values[p] + 16 * j), even[j]);
      }
      for (int j = 0; j < kVecs; ++j) {
        _mm512_store_ps(state[h][0][j], even[j]);
        _mm512_store_ps(state[h][1][j], odd[j]);
      }
    }
  }
  for (int h = 0; h < in.heads; ++h) {
    const __m512 s = _mm512_set1_ps(inverse[h]);
    for (int j = 0; j < kVecs; ++j) {
      _mm512_storeu_ps(out + h * d + 16 * j,
                       _mm512_mul_ps(_mm512_add_ps(_mm512_load_ps(state[h][0][j]), _mm512_load_ps(state[h][1][j])), s));
    }
  }
}

}  // namespace

void AttendHeads(const AttentionGroupInput& in, float* scores, float* out, KernelIsa isa) {
  const bool avx512 = isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
  const int vecs = avx512 && in.head_dim % 16 == 0 && in.heads <= kMaxGroupHeads ? in.head_dim / 16 : 0;
  switch (vecs) {
    case 1: return AttendGroupAvx512<1>(in, scores, out);
    case 2: return AttendGroupAvx512<2>(in, scores, out);
    case 3: return AttendGroupAvx512<3>(in, scores, out);
    case 4: return AttendGroupAvx512<4>(in, scores, out);
    case 5: return AttendGroupAvx512<5>(in, scores, out);
    case 6: return AttendGroupAvx512<6>(in, scores, out);
    case 7: return AttendGroupAvx512<7>(in, scores, out);
    case 8: return AttendGroupAvx512<8>(in, scores, out);
    default: break;
  }
  if (!avx512 && UsesAvx2(isa) && attention_avx2::Supports(in.head_dim, in.heads)) {
    return attention_avx2::AttendGroup(in, scores, out);
  }
  AttentionHeadInput head_in;
  head_in.keys = in.keys;
  head_in.values = in.values;
  head_in.n = in.n;
  head_in.head_dim = in.head_dim;
  head_in.scale = in.scale;
  for (int h = 0; h < in.heads; ++h) {
    head_in.query = in.queries + h * in.head_dim;
    head_in.sink = in.sinks[h];
    AttendHead(head_in, scores, out + h * in.head_dim, isa);
  }
}

void AttendHead(const AttentionHeadInput& in, float* scores, float* out, KernelIsa isa) {
  const bool avx512 = isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
  if (!avx512 && UsesAvx2(isa) && attention_avx2::Supports(in.head_dim, 1)) {
    // A group of one head: the same bits as that head in any group (attention_avx2.h).
    const AttentionGroupInput one{in.query, &in.sink, 1, in.keys, in.values, in.n, in.head_dim, in.scale};
    return attention_avx2::AttendGroup(one, scores, out);
  }
  // The vector kernel covers head widths of 16, 32, ..., 128 (gpt-oss: 64); others run portably.
  switch (avx512 && in.head_dim % 16 == 0 ? in.head_dim / 16 : 0) {
    case 1: AttendAvx512<1>(in, scores, out); break;
    case 2: AttendAvx512<2>(in, scores, out); break;
    case 3: AttendAvx512<3>(in, scores, out); break;
    case 4: AttendAvx512<4>(in, scores, out); break;
    case 5: AttendAvx512<5>(in, scores, out); break;
    case 6: AttendAvx512<6>(in, scores, out); break;
    case 7: AttendAvx512<7>(in, scores, out); break;
    case 8: AttendAvx512<8>(in, scores, out); break;
    default: AttendPortable(in, scores, out); break;
  }
}

}  // namespace warden::model
