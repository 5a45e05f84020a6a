#include "model/kernels/int8_dense.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/kernels/cpu_features.h"
#include "model/kernels/row_kernels.h"

namespace warden::model {
namespace {

using row_kernels::kAllLanes;
using row_kernels::SumLanes;

constexpr int kTokenTile = 4;

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

template <int kTokens>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void TileAvx512(const int8_t* row, int cols,
                                                                                    const float* x, float* sums) {
  const int vec_cols = cols / 16 * 16;
  __m512 acc[kTokens];
  for (int i = 0; i < kTokens; ++i) acc[i] = _mm512_setzero_ps();
  for (int c = 0; c < vec_cols; c += 16) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c));
    const __m512 wv = _mm512_maskz_cvtepi32_ps(kAllLanes, _mm512_maskz_cvtepi8_epi32(kAllLanes, raw));
    for (int i = 0; i < kTokens; ++i) {
      acc[i] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + static_cast<size_t>(i) * cols + c), acc[i]);
    }
  }
  for (int i = 0; i < kTokens; ++i) {
    const float* xt = x + static_cast<size_t>(i) * cols;
    float sum = SumLanes(acc[i]);
    for (int c = vec_cols; c < cols; ++c) sum += static_cast<float>(row[c]) * xt[c];
    sums[i] = sum;
  }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void RowsAvx512(const Int8Matrix& w, const float* x,
                                                                             int m, const float* bias, float* y,
                                                                             int64_t begin, int64_t end) {
  float sums[kTokenTile];
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = w.data.data() + r * w.cols;
    for (int t0 = 0; t0 < m; t0 += kTokenTile) {
      const int tiles = std::min(kTokenTile, m - t0);
      const float* xt = x + static_cast<size_t>(t0) * w.cols;
      switch (tiles) {
        case 1: TileAvx512<1>(row, w.cols, xt, sums); break;
        case 2: TileAvx512<2>(row, w.cols, xt, sums); break;
        case 3: TileAvx512<3>(row, w.cols, xt, sums); break;
        default: TileAvx512<4>(row, w.cols, xt, sums); break;
      }
      for (int i = 0; i < tiles; ++i) {
        y[static_cast<size_t>(t0 + i) * w.rows + r] = sums[i] * w.scales[r] + (bias ? bias[r] : 0.0f);
      }
    }
  }
}

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
  const bool avx512 = isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx512) {
      RowsAvx512(w, x, m, bias, y, begin, end);
    } else {
      RowsPortable(w, x, m, bias, y, begin, end);
    }
  };
  row_kernels::ForRows(&ctx.pool(), w.rows, static_cast<int64_t>(w.rows) * w.cols * m, rows);
}

}  // namespace warden::model
