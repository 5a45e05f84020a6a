#include "model/kernels/int8_dense_tiles.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/kernels/row_kernels.h"

namespace warden::model::int8_dense_tiles {
namespace {

constexpr int kGroupsPerChunk = kChunkValues / kGroupValues;
constexpr int kPrefetchBytes = 8192;  // as the bf16 kernel (paired_rows.h), measured there

// One chunk of one token: its int16 values into `out`; returns its step.
float QuantizeChunk(const float* x, int n, int16_t* out) {
  const float max = row_kernels::MaxAbsOrNan(x, n);
  // A chunk of zeros or subnormals (whose 32767 / max would overflow) counts as zero.
  if (!(max >= std::numeric_limits<float>::min())) return std::isnan(max) ? max : 0.0f;  // the values stay 0
  const float inverse = 32767.0f / max;
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<int16_t>(std::clamp(row_kernels::RoundToInteger(x[j] * inverse), -32767.0f, 32767.0f));
  }
  return max / 32767.0f;
}

// QuantizeChunk with AVX-512, bit for bit: the same IEEE operations lane by lane (the
// largest |x| compared as integers, which orders non-negative finite floats as floats).
// Measured: the scalar quantiser and int8_dense_amx::Pack's scalar loop took ~15 % of an
// 8-token product's time on one thread while the other waited; vectorising both, kernels_bench
// from DRAM (2 threads, 4096 x 2880): 8 tokens 613-615 -> 549-552 us, 2 tokens 558-568 ->
// 506-525 us, 1 and 3 tokens unchanged within noise.
__attribute__((target("avx512f,avx512bw"))) float QuantizeChunkAvx512(const float* x, int n, int16_t* out) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  const __m512i infinity = _mm512_set1_epi32(0x7f800000);
  __m512i max_bits = _mm512_setzero_si512();
  for (int j = 0; j < n; j += 16) {
    const __mmask16 lanes = n - j >= 16 ? row_kernels::kAllLanes : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512i bits = _mm512_and_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(lanes, x + j)), magnitude);
    if (_mm512_mask_cmpge_epu32_mask(lanes, bits, infinity) != 0) return std::numeric_limits<float>::quiet_NaN();
    max_bits = _mm512_maskz_max_epu32(row_kernels::kAllLanes, max_bits, bits);
  }
  const __m256i eight = _mm256_max_epu32(_mm512_maskz_extracti64x4_epi64(0xF, max_bits, 0),
                                         _mm512_maskz_extracti64x4_epi64(0xF, max_bits, 1));
  __m128i four = _mm_max_epu32(_mm256_castsi256_si128(eight), _mm256_extracti128_si256(eight, 1));
  four = _mm_max_epu32(four, _mm_shuffle_epi32(four, 0x4E));
  four = _mm_max_epu32(four, _mm_shuffle_epi32(four, 0xB1));
  const float max = _mm_cvtss_f32(_mm_castsi128_ps(four));
  if (!(max >= std::numeric_limits<float>::min())) return 0.0f;  // as QuantizeChunk: the values stay 0
  const __m512 inverse = _mm512_set1_ps(32767.0f / max);
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // row_kernels::RoundToInteger
  const __m512 low = _mm512_set1_ps(-32767.0f), high = _mm512_set1_ps(32767.0f);
  for (int j = 0; j < n; j += 16) {
    const __mmask16 lanes = n - j >= 16 ? row_kernels::kAllLanes : static_cast<__mmask16>((1u << (n - j)) - 1);
    // The masked forms also keep GCC from fusing the multiply and the add into one FMA
    // (-ffp-contract=fast), which would round differently from the scalar code.
    __m512 v = _mm512_maskz_mul_ps(row_kernels::kAllLanes, _mm512_maskz_loadu_ps(lanes, x + j), inverse);
    v = _mm512_maskz_sub_ps(row_kernels::kAllLanes, _mm512_maskz_add_ps(row_kernels::kAllLanes, v, magic), magic);
    v = _mm512_maskz_min_ps(row_kernels::kAllLanes, _mm512_maskz_max_ps(row_kernels::kAllLanes, v, low), high);
    _mm512_mask_cvtepi32_storeu_epi16(out + j, lanes, _mm512_maskz_cvttps_epi32(row_kernels::kAllLanes, v));
  }
  return max / 32767.0f;
}

}  // namespace

#define WARDEN_INT8_TILES_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define WARDEN_INT8_TILES_ADD_PRODUCTS(sum, w, x) _mm512_add_epi32(sum, _mm512_madd_epi16(w, x))
namespace bw {
#include "model/kernels/int8_dense_tiles_avx512.inc"
}  // namespace bw
#undef WARDEN_INT8_TILES_TARGET
#undef WARDEN_INT8_TILES_ADD_PRODUCTS

#define WARDEN_INT8_TILES_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))
#define WARDEN_INT8_TILES_ADD_PRODUCTS(sum, w, x) _mm512_dpwssd_epi32(sum, w, x)
namespace vnni {
#include "model/kernels/int8_dense_tiles_avx512.inc"
}  // namespace vnni
#undef WARDEN_INT8_TILES_TARGET
#undef WARDEN_INT8_TILES_ADD_PRODUCTS

void QuantizeInt16(const float* x, int m, int cols, Int16Activations* out, KernelIsa isa) {
  const bool avx512 = UsesAvx512(isa);
  out->tokens = m;
  out->cols = cols;
  out->padded_cols = (cols + kGroupValues - 1) / kGroupValues * kGroupValues;
  out->chunks = (cols + kChunkValues - 1) / kChunkValues;
  out->values.assign(static_cast<size_t>(m) * out->padded_cols, 0);
  out->steps.assign(static_cast<size_t>(m) * out->chunks, 0.0f);
  for (int t = 0; t < m; ++t) {
    for (int k = 0; k < out->chunks; ++k) {
      const int c = k * kChunkValues;
      const float* chunk = x + static_cast<size_t>(t) * cols + c;
      const int n = std::min(kChunkValues, cols - c);
      int16_t* values = out->values.data() + static_cast<size_t>(t) * out->padded_cols + c;
      out->steps[static_cast<size_t>(t) * out->chunks + k] =
          avx512 ? QuantizeChunkAvx512(chunk, n, values) : QuantizeChunk(chunk, n, values);
    }
  }
}

void RowsPortable(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
                  int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = w.data.data() + r * w.cols;
    for (int t = 0; t < x.tokens; ++t) {
      const int16_t* xt = x.values.data() + static_cast<size_t>(t) * x.padded_cols;
      float acc = 0.0f;
      for (int k = 0; k < x.chunks; ++k) {
        int32_t sum = 0;
        for (int c = k * kChunkValues; c < std::min((k + 1) * kChunkValues, w.cols); ++c) sum += row[c] * xt[c];
        acc = FoldChunk(acc, sum, x.steps[static_cast<size_t>(t) * x.chunks + k]);
      }
      y[static_cast<size_t>(t) * w.rows + r] = Finish(acc, w.scales[r], bias ? bias[r] : 0.0f);
    }
  }
}

void RowsAvx512(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
                int64_t end) {
  bw::Rows(w, x, bias, y, begin, end);
}

void RowsVnni(const Int8Matrix& w, const Int16Activations& x, const float* bias, float* y, int64_t begin,
              int64_t end) {
  vnni::Rows(w, x, bias, y, begin, end);
}

}  // namespace warden::model::int8_dense_tiles
