#include "model/kernels/mxfp4.h"

#include <immintrin.h>

#include <cmath>
#include <vector>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/avx2_rows.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/mxfp4_format.h"
#include "model/kernels/mxfp4_int8.h"
#include "model/kernels/row_kernels.h"

namespace warden::model {
namespace {

using mxfp4::kBlock;
using mxfp4::kBlockBytes;
using mxfp4::kFp4Values;

using row_kernels::kAllLanes;
using row_kernels::SumLanes;

constexpr int kPrefetchBytes = 12288;

// Rewrites each 32-value block of x as [16 even elements][16 odd elements] so the low and
// high nibbles of a block's bytes meet contiguous inputs.
// Reuses `out`'s capacity, so a steady decode loop does not allocate.
void SplitEvenOdd(const float* x, int m, int cols, AlignedVector<float>* out) {
  out->resize(static_cast<size_t>(m) * cols);
  for (int t = 0; t < m; ++t) {
    const float* src = x + static_cast<size_t>(t) * cols;
    float* dst = out->data() + static_cast<size_t>(t) * cols;
    for (int b = 0; b < cols; b += kBlock) {
      for (int j = 0; j < kBlockBytes; ++j) {
        dst[b + j] = src[b + 2 * j];
        dst[b + kBlockBytes + j] = src[b + 2 * j + 1];
      }
    }
  }
}

void RowsPortable(const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y,
                  int64_t row_begin, int64_t row_end) {
  const int nblocks = w.cols / kBlock;
  const float* scale = mxfp4::ScaleTable();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* blk = w.blocks + r * nblocks * kBlockBytes;
    const uint8_t* sc = w.scales + r * nblocks;
    for (int t = 0; t < m; ++t) {
      const float* xt = xs + static_cast<size_t>(t) * w.cols;
      float acc = 0.0f;
      for (int b = 0; b < nblocks; ++b) {
        float part = 0.0f;
        for (int j = 0; j < kBlockBytes; ++j) {
          const uint8_t byte = blk[b * kBlockBytes + j];
          part += kFp4Values[byte & 0xF] * xt[b * kBlock + j];
          part += kFp4Values[byte >> 4] * xt[b * kBlock + kBlockBytes + j];
        }
        acc += part * scale[sc[b]];
      }
      y[static_cast<size_t>(t) * w.rows + r] = acc + (bias ? bias[r] : 0.0f);
    }
  }
}

// The 32 values of one block as float32, looked up in `lut` (the 16 values by nibble, scaled
// or not): elements 2j (low nibbles) and 2j+1.
struct BlockValues {
  __m512 even, odd;
};

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline BlockValues DecodeBlock(const uint8_t* bytes,
                                                                                            __m512 lut) {
  const __m512i v = _mm512_maskz_cvtepu8_epi32(kAllLanes, _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  // vpermps reads only the low 4 bits of each index: no mask needed for the low nibble.
  return {_mm512_maskz_permutexvar_ps(kAllLanes, v, lut),
          _mm512_maskz_permutexvar_ps(kAllLanes, _mm512_maskz_srli_epi32(kAllLanes, v, 4), lut)};
}

// acc[i] += (block b of W, scaled) . (block b of token i's x). The block's scale costs no
// arithmetic: the decode looks the nibbles up in the line of ScaledValueTables() for the
// block's exponent (an L1-resident 16 KB table), so a block takes one conversion, one shift,
// two permutes and two FMAs per token.
template <int kTokens>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void AddBlock(
    const uint8_t* blk, const uint8_t* sc, const float* tables, int b, const float* xs, int cols, __m512* acc) {
  const BlockValues w = DecodeBlock(blk + b * kBlockBytes, _mm512_load_ps(tables + 16 * sc[b]));
#pragma GCC unroll 8  // keeps acc in registers (GCC -O2 would loop with acc in memory)
  for (int i = 0; i < kTokens; ++i) {
    const float* xt = xs + static_cast<size_t>(i) * cols + b * kBlock;
    acc[i] = _mm512_fmadd_ps(w.odd, _mm512_loadu_ps(xt + kBlockBytes), _mm512_fmadd_ps(w.even, _mm512_loadu_ps(xt), acc[i]));
  }
}

// kRows consecutive rows of W against kTokens rows of x. The counts are template parameters
// so the accumulators live in registers (a run-time count made GCC keep them in memory).
// Two blocks per step into two accumulators per row and token: short dependency chains, so
// one token (decode) is not bound by FMA latency; two rows give each thread two memory
// streams. sums[row * kTokens + token].
template <int kRows, int kTokens>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void RowTileAvx512(
    const uint8_t* blk, const uint8_t* sc, int nblocks, const float* xs, int cols,
    float* sums) {
  const float* tables = mxfp4::ScaledValueTables();
  const size_t row_bytes = static_cast<size_t>(nblocks) * kBlockBytes;
  __m512 acc[kRows][2][kTokens];
#pragma GCC unroll 2
  for (int r = 0; r < kRows; ++r) {
    for (int i = 0; i < kTokens; ++i) acc[r][0][i] = acc[r][1][i] = _mm512_setzero_ps();
  }
  int b = 0;
  for (; b + 1 < nblocks; b += 2) {
#pragma GCC unroll 2
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row_blk = blk + r * row_bytes;
      const uint8_t* row_sc = sc + r * nblocks;
      // One prefetch per cache line, 12 KB (about 8 rows of gpt-oss) ahead: the arithmetic
      // per byte is high enough that the hardware prefetcher alone left the thread waiting
      // on memory (decode from DRAM, 2 threads: 8.2 GB/s without, 12.7-13.4 at 2 KB ahead,
      // 16.2-16.5 at 12 KB). Prefetches past the matrix are harmless.
      if (b % 4 == 0) {
        _mm_prefetch(reinterpret_cast<const char*>(row_blk + b * kBlockBytes + kPrefetchBytes), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(row_blk + b * kBlockBytes + row_kernels::kFarPrefetchBytes),
                     _MM_HINT_T2);
      }
      AddBlock<kTokens>(row_blk, row_sc, tables, b, xs, cols, acc[r][0]);
      AddBlock<kTokens>(row_blk, row_sc, tables, b + 1, xs, cols, acc[r][1]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    if (b < nblocks) AddBlock<kTokens>(blk + r * row_bytes, sc + r * nblocks, tables, b, xs, cols, acc[r][0]);
    for (int i = 0; i < kTokens; ++i) sums[r * kTokens + i] = SumLanes(_mm512_add_ps(acc[r][0][i], acc[r][1][i]));
  }
}

template <int kRows>
void RowTileAnyTokens(const uint8_t* blk, const uint8_t* sc, int nblocks, const float* xs, int cols, int tokens,
                      float* sums) {
  row_kernels::WithTokenCount(
      tokens, [&](auto n) { RowTileAvx512<kRows, decltype(n)::value>(blk, sc, nblocks, xs, cols, sums); });
}

// Rows are taken in pairs when at most kPairedMaxTokens tokens share them (decode: the
// accumulators of two rows still fit the registers); a trailing odd row goes alone.
constexpr int kPairedMaxTokens = 2;

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void RowsAvx512(
    const Mxfp4Matrix& w, const float* xs, int m, const float* bias, float* y, int64_t row_begin,
    int64_t row_end) {
  const int nblocks = w.cols / kBlock;
  row_kernels::ForRowTiles(row_begin, row_end, w.rows, m, m <= kPairedMaxTokens ? 2 : 1, nullptr, bias, y,
                           [&](int64_t r, int row_count, int t0, int tokens, float* sums) {
                             const uint8_t* blk = w.blocks + r * nblocks * kBlockBytes;
                             const uint8_t* sc = w.scales + r * nblocks;
                             const float* xt = xs + static_cast<size_t>(t0) * w.cols;
                             if (row_count == 2) {
                               RowTileAnyTokens<2>(blk, sc, nblocks, xt, w.cols, tokens, sums);
                             } else {
                               RowTileAnyTokens<1>(blk, sc, nblocks, xt, w.cols, tokens, sums);
                             }
                           });
}

}  // namespace

bool UsesAvx512(KernelIsa isa) {
  return isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
}

bool UsesAvx2(KernelIsa isa) {
  return isa == KernelIsa::kAvx2 || (isa == KernelIsa::kBest && !CpuHasAvx512() && CpuHasAvx2Fma());
}

void Mxfp4Matmul(const Mxfp4Matrix& w, const float* x, int m, const float* bias, float* y,
                 ThreadPool* pool, KernelIsa isa, Mxfp4Activations activations) {
  if (m <= 0 || w.rows <= 0) return;
  const int64_t multiply_adds = static_cast<int64_t>(w.rows) * w.cols * m;
  if (activations != Mxfp4Activations::kFloat32) {
    thread_local QuantizedActivations quantized;
    QuantizeActivations(x, m, w.cols, mxfp4_int8::kWeightBias, &quantized);
    const QuantizedActivations* q = &quantized;
    const bool vnni = (isa == KernelIsa::kAvx512 || isa == KernelIsa::kBest) && CpuHasAvx512Vnni();
    // AVX2 also where AVX-512 lacks VNNI (kBest), or when asked for.
    const bool avx2 = !vnni && (isa == KernelIsa::kAvx2 || isa == KernelIsa::kBest) && CpuHasAvx2Fma();
    auto rows = [&w, q, bias, y, vnni, avx2](int64_t begin, int64_t end) {
      if (vnni) {
        mxfp4_int8::RowsVnni(w, *q, bias, y, begin, end);
      } else if (avx2) {
        mxfp4_int8::RowsAvx2(w, *q, bias, y, begin, end);
      } else {
        mxfp4_int8::RowsPortable(w, *q, bias, y, begin, end);
      }
    };
    row_kernels::ForRows(pool, w.rows, multiply_adds, rows);
    return;
  }
  // The calling thread's scratch; the workers get its address (a thread_local named inside
  // the lambda would be each worker's own instance).
  thread_local AlignedVector<float> split;
  const bool avx512 = UsesAvx512(isa);
  const bool avx2 = !avx512 && UsesAvx2(isa);
  if (avx2) {
    split.resize(static_cast<size_t>(m) * w.cols);
    avx2_rows::Mxfp4Layout(x, m, w.cols, split.data());
  } else {
    SplitEvenOdd(x, m, w.cols, &split);
  }
  const float* xs = split.data();
  auto rows = [&w, xs, m, bias, y, avx512, avx2](int64_t begin, int64_t end) {
    if (avx512) {
      RowsAvx512(w, xs, m, bias, y, begin, end);
    } else if (avx2) {
      avx2_rows::Mxfp4Rows(w, xs, m, bias, y, begin, end);
    } else {
      RowsPortable(w, xs, m, bias, y, begin, end);
    }
  };
  row_kernels::ForRows(pool, w.rows, multiply_adds, rows);
}

float Mxfp4Element(const Mxfp4Matrix& w, int row, int col) {
  const int nblocks = w.cols / kBlock;
  const int b = col / kBlock, j = col % kBlock;
  const uint8_t byte = w.blocks[(static_cast<size_t>(row) * nblocks + b) * kBlockBytes + j / 2];
  const int nibble = (j % 2 == 0) ? (byte & 0xF) : (byte >> 4);
  return kFp4Values[nibble] * mxfp4::ScaleTable()[w.scales[static_cast<size_t>(row) * nblocks + b]];
}

}  // namespace warden::model
