#include "model/kernels/avx2_rows.h"

#include <immintrin.h>

#include <algorithm>

#include "model/kernels/mxfp4_format.h"

namespace warden::model::avx2_rows {
namespace {

#define WARDEN_AVX2 __attribute__((target("avx2,fma")))

WARDEN_AVX2 inline float SumLanes(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
}

// Eight bf16 values widened to float32 (a bf16 is the upper half of a float32).
WARDEN_AVX2 inline __m256 WidenBf16(const uint16_t* w) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

// The e2m1 values of eight nibbles (in the low 4 bits of each lane): the magnitude from the
// low 3 bits, the sign from bit 3.
WARDEN_AVX2 inline __m256 Fp4Values(__m256i nibbles, __m256 magnitudes) {
  const __m256 magnitude = _mm256_permutevar8x32_ps(magnitudes, nibbles);
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(nibbles, _mm256_set1_epi32(8)), 28);
  return _mm256_xor_ps(magnitude, _mm256_castsi256_ps(sign));
}

// out[i] = sum_c bf16(w[c]) * x[i * ldx + c] for c < n and the kRows rows i of x. Each row's
// sum runs in the same order whatever kRows is (two 8-lane sums over 16 columns a step, then
// the tail), so a row of x gets the same bits alone or beside others: the engine's
// sequences must not depend on what shares their step. Four rows share each widened weight.
template <int kRows>
WARDEN_AVX2 void DotRows(const uint16_t* w, const float* x, int64_t ldx, int64_t n, float* out) {
  __m256 acc[kRows][2];
  for (auto& row : acc) row[0] = row[1] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m256 w0 = WidenBf16(w + c), w1 = WidenBf16(w + c + 8);
    for (int i = 0; i < kRows; ++i) {
      acc[i][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i * ldx + c), acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i * ldx + c + 8), acc[i][1]);
    }
  }
  for (int i = 0; i < kRows; ++i) {
    float sum = SumLanes(_mm256_add_ps(acc[i][0], acc[i][1]));
    for (int64_t cc = c; cc < n; ++cc) sum += Bf16ToFloat(w[cc]) * x[i * ldx + cc];
    out[i] = sum;
  }
}

}  // namespace

void Bf16Rows(const Bf16Matrix& w, const float* x, int m, const float* bias, float* y, int64_t row_begin,
              int64_t row_end) {
  // Rows of x in blocks that stay in L2 (32 x 2880 floats: 360 KiB) while the rows of W pass
  // over them: each row of W is read once per block, then from L1 for each row of x.
  constexpr int kRowsOfXPerBlock = 32;
  const int64_t cols = w.cols;
  for (int t0 = 0; t0 < m; t0 += kRowsOfXPerBlock) {
    const int t1 = std::min(m, t0 + kRowsOfXPerBlock);
    for (int64_t r = row_begin; r < row_end; ++r) {
      const uint16_t* row = w.data + r * cols;
      const float add = bias != nullptr ? bias[r] : 0.0f;
      int t = t0;
      for (; t + 4 <= t1; t += 4) {
        float four[4];
        DotRows<4>(row, x + t * cols, cols, cols, four);
        for (int i = 0; i < 4; ++i) y[static_cast<size_t>(t + i) * w.rows + r] = four[i] + add;
      }
      for (; t < t1; ++t) {
        float one;
        DotRows<1>(row, x + t * cols, cols, cols, &one);
        y[static_cast<size_t>(t) * w.rows + r] = one + add;
      }
    }
  }
}

WARDEN_AVX2 void Mxfp4Rows(const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y,
                           int64_t row_begin, int64_t row_end) {
  const int nblocks = w.cols / mxfp4::kBlock;
  const float* scale = mxfp4::ScaleTable();
  // The e2m1 magnitudes of codes 0-7; codes 8-15 are their negatives.
  const __m256 magnitudes = _mm256_loadu_ps(mxfp4::kFp4Values);
  const __m256i low_nibble = _mm256_set1_epi32(0xF);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* blk = w.blocks + r * nblocks * mxfp4::kBlockBytes;
    const uint8_t* sc = w.scales + r * nblocks;
    for (int t = 0; t < m; ++t) {
      const float* xt = xs + static_cast<size_t>(t) * w.cols;
      __m256 acc = _mm256_setzero_ps();
      for (int b = 0; b < nblocks; ++b) {
        const uint8_t* bytes = blk + b * mxfp4::kBlockBytes;
        const float* xb = xt + b * mxfp4::kBlock;
        // Bytes 0-7 and 8-15: low nibbles meet elements 0-15 of the split block, high
        // nibbles elements 16-31.
        const __m256i first = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes)));
        const __m256i second = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + 8)));
        __m256 part = _mm256_mul_ps(Fp4Values(_mm256_and_si256(first, low_nibble), magnitudes), _mm256_loadu_ps(xb));
        part = _mm256_fmadd_ps(Fp4Values(_mm256_and_si256(second, low_nibble), magnitudes), _mm256_loadu_ps(xb + 8),
                               part);
        part = _mm256_fmadd_ps(Fp4Values(_mm256_srli_epi32(first, 4), magnitudes), _mm256_loadu_ps(xb + 16), part);
        part = _mm256_fmadd_ps(Fp4Values(_mm256_srli_epi32(second, 4), magnitudes), _mm256_loadu_ps(xb + 24), part);
        acc = _mm256_fmadd_ps(part, _mm256_set1_ps(scale[sc[b]]), acc);
      }
      y[static_cast<size_t>(t) * w.rows + r] = SumLanes(acc) + (bias != nullptr ? bias[r] : 0.0f);
    }
  }
}

#undef WARDEN_AVX2

}  // namespace warden::model::avx2_rows
