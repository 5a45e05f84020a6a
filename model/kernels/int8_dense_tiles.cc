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

void QuantizeInt16(const float* x, int m, int cols, Int16Activations* out) {
  out->tokens = m;
  out->cols = cols;
  out->padded_cols = (cols + kGroupValues - 1) / kGroupValues * kGroupValues;
  out->chunks = (cols + kChunkValues - 1) / kChunkValues;
  out->values.assign(static_cast<size_t>(m) * out->padded_cols, 0);
  out->steps.assign(static_cast<size_t>(m) * out->chunks, 0.0f);
  for (int t = 0; t < m; ++t) {
    for (int k = 0; k < out->chunks; ++k) {
      const int c = k * kChunkValues;
      out->steps[static_cast<size_t>(t) * out->chunks + k] =
          QuantizeChunk(x + static_cast<size_t>(t) * cols + c, std::min(kChunkValues, cols - c),
                        out->values.data() + static_cast<size_t>(t) * out->padded_cols + c);
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
