#include "model/kernels/attention_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "model/kernels/avx2_lanes.h"
#include "model/kernels/exp_polynomial.h"
#include "model/kernels/softmax_scores.h"

namespace warden::model::attention_avx2 {
namespace {

using avx2_lanes::SumLanes;

// Positions per block: 64 key or value rows of 64 floats are 16 KB, which stay in L1 while
// every head of the group reads them (as the AVX-512 kernel's blocks). Measured and dropped
// (one thread, 8 heads of 64, KV rows 2 KB apart as in the engine's cache): blocks of 16 or
// 32 positions (no change beyond noise); copying each block's rows into one contiguous
// buffer first, against L1 set conflicts of the strided rows (19.8 -> 15.7 GFLOP/s).
constexpr int kBlock = 64;
// Head widths up to 16 vectors of eight floats.
constexpr int kMaxVecs = 16;

// Lane j of the result: the sum of v[j]'s eight lanes (pairs, then quads, then halves).
WARDEN_AVX2 inline __m256 SumLanes8(const __m256* v) {
  const __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
}

// exp(x) for x <= 0, as softmax_avx512::ExpNonPositive (exp_polynomial.h's constants); 2^k
// is built from exponent bits, so arguments below -87 (where
// the result would leave the normal floats) give 0: a softmax weight below 1.7e-38 of the
// largest one changes no float32 sum. A NaN argument stays NaN.
WARDEN_AVX2 inline __m256 ExpNonPositive(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-87.0f);
  const __m256 below = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  x = _mm256_max_ps(lowest, x);  // the second operand when either is NaN: keeps a NaN
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(exp_polynomial::kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(exp_polynomial::kLn2High), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(exp_polynomial::kLn2Low), r);
  __m256 p = _mm256_set1_ps(exp_polynomial::kTaylor[0]);
#pragma GCC unroll 8
  for (int i = 1; i < exp_polynomial::kTaylorTerms; ++i) {
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(exp_polynomial::kTaylor[i]));
  }
  // k is in [-126, 0] here, so k + 127 is a normal exponent.
  const __m256i two_to_k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(below, _mm256_mul_ps(p, _mm256_castsi256_ps(two_to_k)));
}

// scores[p] = exp(scores[p] - max) for p < n; returns their sum (lanes, then one tree).
WARDEN_AVX2 float ExpInPlace(float* scores, int n, float max) {
  const __m256 max_v = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  int p = 0;
  for (; p + 8 <= n; p += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(scores + p), max_v));
    _mm256_storeu_ps(scores + p, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (p < n) {
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - p), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(lanes),
                                   ExpNonPositive(_mm256_sub_ps(_mm256_maskload_ps(scores + p, lanes), max_v)));
    _mm256_maskstore_ps(scores + p, lanes, e);
    sum = _mm256_add_ps(sum, e);
  }
  return SumLanes(sum);
}

template <int kVecs>
WARDEN_AVX2 inline __m256 Dot(const __m256* q, const float* key) {
  __m256 acc = _mm256_mul_ps(q[0], _mm256_loadu_ps(key));
#pragma GCC unroll 16
  for (int j = 1; j < kVecs; ++j) acc = _mm256_fmadd_ps(q[j], _mm256_loadu_ps(key + 8 * j), acc);
  return acc;
}

// scores[p] = scale * query . keys[p] for p < n: eight positions at a time summed by one
// tree, the last n % 8 one by one.
template <int kVecs>
WARDEN_AVX2 void Scores(const float* query, const float* const* keys, int n, float scale, float* scores) {
  __m256 q[kVecs];
  for (int j = 0; j < kVecs; ++j) q[j] = _mm256_loadu_ps(query + 8 * j);
  const __m256 scale_v = _mm256_set1_ps(scale);
  int p = 0;
  for (; p + 8 <= n; p += 8) {
    __m256 dots[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) dots[i] = Dot<kVecs>(q, keys[p + i]);
    _mm256_storeu_ps(scores + p, _mm256_mul_ps(SumLanes8(dots), scale_v));
  }
  for (; p < n; ++p) scores[p] = SumLanes(Dot<kVecs>(q, keys[p])) * scale;
}

// acc += weights[p] * values[p] for p in [begin, end), position after position, with the
// accumulators kept in `acc` (float32 stores and loads change no value).
template <int kVecs>
WARDEN_AVX2 void AccumulateValues(const float* const* values, const float* weights, int begin, int end, float* acc) {
  __m256 sums[kVecs];
  for (int j = 0; j < kVecs; ++j) sums[j] = _mm256_load_ps(acc + 8 * j);
  for (int p = begin; p < end; ++p) {
    const __m256 w = _mm256_set1_ps(weights[p]);
#pragma GCC unroll 16
    for (int j = 0; j < kVecs; ++j) sums[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(values[p] + 8 * j), sums[j]);
  }
  for (int j = 0; j < kVecs; ++j) _mm256_store_ps(acc + 8 * j, sums[j]);
}

// Scores in blocks of positions with all heads per block (each block's keys are read from
// memory once per group); the softmax per head; the weighted values in blocks likewise.
// Block boundaries are multiples of kBlock from 0 for any number of heads, so each head runs
// the same operations in the same order alone or in a group.
template <int kVecs>
WARDEN_AVX2 void Attend(const AttentionGroupInput& in, float* scores, float* out) {
  const int d = in.head_dim, n = in.n;
  for (int b = 0; b < n; b += kBlock) {
    const int count = std::min(kBlock, n - b);
    for (int h = 0; h < in.heads; ++h) {
      Scores<kVecs>(in.queries + h * d, in.keys + b, count, in.scale, scores + static_cast<size_t>(h) * n + b);
    }
  }
  float inverse[kMaxHeads];
  for (int h = 0; h < in.heads; ++h) {
    inverse[h] = softmax_scores::ExpScoresAndInverse(scores + static_cast<size_t>(h) * n, n, in.sinks[h], ExpInPlace);
  }
  alignas(32) float acc[kMaxHeads][8 * kVecs];
  for (int h = 0; h < in.heads; ++h) std::fill(acc[h], acc[h] + 8 * kVecs, 0.0f);
  for (int b = 0; b < n; b += kBlock) {
    const int end = std::min(n, b + kBlock);
    for (int h = 0; h < in.heads; ++h) {
      AccumulateValues<kVecs>(in.values, scores + static_cast<size_t>(h) * n, b, end, acc[h]);
    }
  }
  for (int h = 0; h < in.heads; ++h) {
    const __m256 s = _mm256_set1_ps(inverse[h]);
    for (int j = 0; j < kVecs; ++j) {
      _mm256_storeu_ps(out + h * d + 8 * j, _mm256_mul_ps(_mm256_load_ps(acc[h] + 8 * j), s));
    }
  }
}

template <int... kVecs>
void Dispatch(std::integer_sequence<int, kVecs...>, const AttentionGroupInput& in, float* scores, float* out) {
  const int vecs = in.head_dim / 8;
  // Exactly one instantiation matches (Supports() checked the range).
  (void)((vecs == kVecs + 1 ? (Attend<kVecs + 1>(in, scores, out), true) : false) || ...);
}

}  // namespace

bool Supports(int head_dim, int heads) {
  return head_dim > 0 && head_dim % 8 == 0 && head_dim / 8 <= kMaxVecs && heads > 0 && heads <= kMaxHeads;
}

void AttendGroup(const AttentionGroupInput& in, float* scores, float* out) {
  Dispatch(std::make_integer_sequence<int, kMaxVecs>(), in, scores, out);
}

}  // namespace warden::model::attention_avx2
