#include "model/kernels/int8_dense.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/kernels/cpu_features.h"
#include "model/kernels/paired_rows.h"
#include "model/kernels/row_kernels.h"

namespace warden::model {
namespace {

using row_kernels::kAllLanes;


void RowsPortable(const Int8Matrix& w, const float* x, int m, const float* bias, float* y, int64_t begin,
                  int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = w.data.data() + r * w.cols;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<size_t>(t) * w.cols;
      float acc = 0.0f;
      for (int c = 0; c < w.cols; ++c) acc += static_cast<float>(row[c]) * xt[c];
      y[static_cast<size_t>(t) * w.rows + r] = acc * w.scales[r] + (bias ? bias[r] : 0.0f);
    }
  }
}

// int8 weights for paired_rows (the row scales are applied to the sums).
struct Int8Lanes {
  using Weight = int8_t;
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) static inline __m512 Widen(const int8_t* w) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
    return _mm512_maskz_cvtepi32_ps(kAllLanes, _mm512_maskz_cvtepi8_epi32(kAllLanes, raw));
  }
  static float Scalar(int8_t w) { return static_cast<float>(w); }
};

}  // namespace

Int8Matrix QuantizeRows(const Bf16Matrix& w, ThreadPool& pool) {
  Int8Matrix q;
  q.rows = w.rows;
  q.cols = w.cols;
  q.data.resize(static_cast<size_t>(w.rows) * w.cols);
  q.scales.resize(w.rows);
  pool.ParallelFor(w.rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint16_t* row = w.data + r * w.cols;
      float max = 0.0f;
      for (int c = 0; c < w.cols; ++c) max = std::max(max, std::fabs(Bf16ToFloat(row[c])));
      const float scale = max > 0.0f && std::isfinite(max) ? max / 127.0f : 0.0f;
      q.scales[r] = scale;
      int8_t* out = q.data.data() + r * w.cols;
      for (int c = 0; c < w.cols; ++c) {
        const float v = scale > 0.0f ? std::nearbyint(Bf16ToFloat(row[c]) / scale) : 0.0f;
        out[c] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
      }
    }
  });
  return q;
}

void Int8DenseMatmul(KernelContext& ctx, const Int8Matrix& w, const float* x, int m, const float* bias, float* y,
                     KernelIsa isa) {
  const bool avx512 = UsesAvx512(isa);
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx512) {
      paired_rows::Rows<Int8Lanes>(w.data.data(), w.rows, w.cols, x, m, w.scales.data(), bias, y, begin, end);
    } else {
      RowsPortable(w, x, m, bias, y, begin, end);
    }
  };
  row_kernels::ForRows(&ctx.pool(), w.rows, static_cast<int64_t>(w.rows) * w.cols * m, rows);
}

}  // namespace warden::model
