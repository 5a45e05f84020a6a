#include "model/kernels/int8_dense.h"

#include <algorithm>
#include <cmath>

#include "model/kernels/avx2_rows.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/int8_dense_amx.h"
#include "model/kernels/int8_dense_tiles.h"
#include "model/kernels/row_kernels.h"

namespace warden::model {

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

bool Int8DenseRunsOnAmx(int m, int cols) {
  return CpuHasAvx512Vnni() && int8_dense_amx::Handles(m, cols) && int8_dense_amx::Available();
}

void Int8DenseMatmul(KernelContext& ctx, const Int8Matrix& w, const float* x, int m, const float* bias, float* y,
                     KernelIsa isa) {
  // The calling thread's scratch; the workers get its address (a thread_local named inside
  // the lambda would be each worker's own instance).
  thread_local int8_dense_tiles::Int16Activations quantized;
  int8_dense_tiles::QuantizeInt16(x, m, w.cols, &quantized, isa);
  const int8_dense_tiles::Int16Activations* q = &quantized;
  const bool avx512 = UsesAvx512(isa);
  // Like the dense bf16 kernel's AMX: the VNNI form only for kBest, so kAvx512 still tests
  // the plain AVX-512 one.
  const bool vnni = isa == KernelIsa::kBest && CpuHasAvx512Vnni();
  // 3-16 tokens on AMX where it can run: the same outputs, bit for bit (int8_dense_amx.h).
  const bool amx = vnni && Int8DenseRunsOnAmx(m, w.cols);
  thread_local int8_dense_amx::Digits digits;
  if (amx) int8_dense_amx::Pack(quantized, &digits);
  const int8_dense_amx::Digits* d = &digits;
  const bool avx2 = !avx512 && UsesAvx2(isa);
  auto rows = [&w, q, d, bias, y, avx512, avx2, vnni, amx](int64_t begin, int64_t end) {
    if (amx) begin = int8_dense_amx::Rows(w, *d, bias, y, begin, end);
    if (begin == end) return;
    if (vnni) {
      int8_dense_tiles::RowsVnni(w, *q, bias, y, begin, end);
    } else if (avx512) {
      int8_dense_tiles::RowsAvx512(w, *q, bias, y, begin, end);
    } else if (avx2) {
      avx2_rows::Int8Rows(w, *q, bias, y, begin, end);
    } else {
      int8_dense_tiles::RowsPortable(w, *q, bias, y, begin, end);
    }
  };
  row_kernels::ForRows(&ctx.pool(), w.rows, static_cast<int64_t>(w.rows) * w.cols * m, rows);
}

}  // namespace warden::model
