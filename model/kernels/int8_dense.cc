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

constexpr int kTokenTile = 8;

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

// 16 int8 weights as float32.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512 Widen(const int8_t* w) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  return _mm512_maskz_cvtepi32_ps(kAllLanes, _mm512_maskz_cvtepi8_epi32(kAllLanes, raw));
}

// kRows weight rows against kTokens rows of x (as the bf16 direct kernel: x loads shared by
// the rows, independent accumulators; the unroll pragmas keep them in registers).
// sums[row * kTokens + token], before the row scales.
template <int kRows, int kTokens>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void TileAvx512(const int8_t* rows, int cols,
                                                                                    const float* x, float* sums) {
  const int vec_cols = cols / 16 * 16;
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 2
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  for (int c = 0; c < vec_cols; c += 16) {
    __m512 wv[kRows];
#pragma GCC unroll 2
    for (int r = 0; r < kRows; ++r) wv[r] = Widen(rows + static_cast<size_t>(r) * cols + c);
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + static_cast<size_t>(i) * cols + c);
#pragma GCC unroll 2
      for (int r = 0; r < kRows; ++r) acc[r][i] = _mm512_fmadd_ps(wv[r], xv, acc[r][i]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    const int8_t* row = rows + static_cast<size_t>(r) * cols;
    for (int i = 0; i < kTokens; ++i) {
      const float* xt = x + static_cast<size_t>(i) * cols;
      float sum = SumLanes(acc[r][i]);
      for (int c = vec_cols; c < cols; ++c) sum += static_cast<float>(row[c]) * xt[c];
      sums[r * kTokens + i] = sum;
    }
  }
}

template <int kRows>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void TileAnyTokens(const int8_t* rows, int cols,
                                                                                const float* x, int tokens,
                                                                                float* sums) {
  switch (tokens) {
    case 1: TileAvx512<kRows, 1>(rows, cols, x, sums); break;
    case 2: TileAvx512<kRows, 2>(rows, cols, x, sums); break;
    case 3: TileAvx512<kRows, 3>(rows, cols, x, sums); break;
    case 4: TileAvx512<kRows, 4>(rows, cols, x, sums); break;
    case 5: TileAvx512<kRows, 5>(rows, cols, x, sums); break;
    case 6: TileAvx512<kRows, 6>(rows, cols, x, sums); break;
    case 7: TileAvx512<kRows, 7>(rows, cols, x, sums); break;
    default: TileAvx512<kRows, 8>(rows, cols, x, sums); break;
  }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void RowsAvx512(const Int8Matrix& w, const float* x,
                                                                             int m, const float* bias, float* y,
                                                                             int64_t begin, int64_t end) {
  float sums[2 * kTokenTile];
  for (int64_t r = begin; r < end; r += 2) {
    const int pair = end - r >= 2 ? 2 : 1;
    const int8_t* rows = w.data.data() + r * w.cols;
    for (int t0 = 0; t0 < m; t0 += kTokenTile) {
      const int tiles = std::min(kTokenTile, m - t0);
      const float* xt = x + static_cast<size_t>(t0) * w.cols;
      if (pair == 2) {
        TileAnyTokens<2>(rows, w.cols, xt, tiles, sums);
      } else {
        TileAnyTokens<1>(rows, w.cols, xt, tiles, sums);
      }
      for (int p = 0; p < pair; ++p) {
        for (int i = 0; i < tiles; ++i) {
          y[static_cast<size_t>(t0 + i) * w.rows + r + p] =
              sums[p * tiles + i] * w.scales[r + p] + (bias ? bias[r + p] : 0.0f);
        }
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
  const bool avx512 = UsesAvx512(isa);
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
