#include "model/kernels/dense.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/kernels/amx_dense.h"
#include "model/kernels/avx2_rows.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/row_kernels.h"
#include "model/kernels/dnnl_state.h"
#include "model/kernels/paired_rows.h"
#include "model/kernels/split_matmul.h"

namespace warden::model {
namespace {

using row_kernels::kAllLanes;

// Up to this many rows of x go through the direct kernel under DensePath::kAuto (any count
// from kAmxMinRows where the AMX kernel runs: 16 rows from memory on 2 cores stream W at
// 20-21 GB/s, about twice oneDNN's split product).
constexpr int kDirectMaxRows = 8;
// oneDNN primitives are cached per padded row count; padding bounds the cache size.
constexpr int64_t kRowPadding = 16;

void DirectRowsPortable(const Bf16Matrix& w, const float* x, int m, const float* bias, float* y,
                        int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint16_t* row = w.data + r * w.cols;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<size_t>(t) * w.cols;
      float acc = 0.0f;
      for (int c = 0; c < w.cols; ++c) acc += Bf16ToFloat(row[c]) * xt[c];
      y[static_cast<size_t>(t) * w.rows + r] = acc + (bias ? bias[r] : 0.0f);
    }
  }
}

// bf16 weights for paired_rows: widening is a shift into the upper half of a float32.
struct Bf16Lanes {
  using Weight = uint16_t;
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) static inline __m512 Widen(const uint16_t* w) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAllLanes, _mm512_maskz_cvtepu16_epi32(kAllLanes, raw), 16));
  }
  static float Scalar(uint16_t w) { return Bf16ToFloat(w); }
};

// From this many rows of x, kBest runs the AMX kernel where the CPU has one: one or two
// rows already stream W at memory speed through paired_rows.
constexpr int kAmxMinRows = 3;
// Rows of x rounded to bf16 (DensePath::kAutoRounded) take the AMX kernel up to this many;
// beyond, oneDNN's rounded product, which is faster from 256 rows (kernels_bench
// BM_DenseFloatRowsFromMemory, 4096 x 2880 from memory, 2 threads: 128 rows 2.6 ms on AMX
// against 3.2 on oneDNN, 256 rows 4.8 / 4.7, 512 rows 11.6 / 8.8). Float32 rows (hi + lo,
// twice the tile work) take AMX at any count: 65 / 128 / 256 rows 2.3 / 4.0 / 7.2 ms
// against 4.6 / 5.5 / 11.6 on oneDNN's split product.
constexpr int kAmxMaxRoundedRows = 192;
// Groups of x per pass over W: each block of kAmxGroupBlockRows rows of W is read from
// memory once and again from L2 for every group of the pass, so the pass's packed x (8
// groups: 8 x 184 KiB) and a block (360 KiB) share the 2 MiB L2; more rows take more
// passes. 65 / 96 float32 rows: 2.3 / 2.9 ms in one pass against 3.2 / 3.4 in passes of 4.
constexpr int kAmxPassGroups = 8;
// Rows of W per block that the groups of x take in turn: 64 x 2880 bf16 = 360 KiB, in L2.
constexpr int64_t kAmxGroupBlockRows = 64;

bool UsesAmx(KernelIsa isa, int m, int cols, amx_dense::Bf16Parts parts) {
  const bool within = parts == amx_dense::Bf16Parts::kHiAndLo || m <= kAmxMaxRoundedRows;
  return isa == KernelIsa::kBest && m >= kAmxMinRows && within &&
         amx_dense::Handles(std::min(m, amx_dense::kMaxTokens), cols) && CpuHasAvx512() && amx_dense::Available();
}

// One pass of AmxMatmul over W for up to kAmxPassGroups groups of x.
void AmxPass(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m, const float* bias, float* y,
              amx_dense::Bf16Parts parts) {
  const int group_rows = amx_dense::MaxPackedTokens(parts);
  int groups = 0;
  const amx_dense::PackedActivations* px = amx_dense::PackGroups(x, m, w.cols, parts, &groups);
  const int64_t tiles = (w.rows + amx_dense::kTileRows - 1) / amx_dense::kTileRows;
  auto tile_range = [&w, x, m, groups, group_rows, bias, y, px](int64_t first_tile, int64_t end_tile) {
    const int64_t end = std::min<int64_t>(end_tile * amx_dense::kTileRows, w.rows);
    for (int64_t block = first_tile * amx_dense::kTileRows; block < end; block += kAmxGroupBlockRows) {
      const int64_t block_end = std::min(block + kAmxGroupBlockRows, end);
      int64_t done = block_end;
      for (int g = 0; g < groups; ++g) {
        done = amx_dense::Rows(w, px[g], bias, y + static_cast<size_t>(g) * group_rows * w.rows, block, block_end);
      }
      if (done < block_end) {
        paired_rows::Rows<Bf16Lanes>(w.data, w.rows, w.cols, x, m, nullptr, bias, y, done, block_end);
      }
    }
  };
  row_kernels::ForRows(&ctx.pool(), tiles, static_cast<int64_t>(w.rows) * w.cols * m, tile_range);
}

// AMX for whole tiles of 16 rows; the last rows of W (rows % 16) through paired_rows. x in
// groups of amx_dense::MaxPackedTokens(parts) rows (16 split into hi + lo, 32 rounded);
// with several, each block of kAmxGroupBlockRows rows of W serves every group of a pass
// before the next block. A row of x gets the same bits whichever pass, group and column it
// lands in (each output column accumulates alone, in one order).
void AmxMatmul(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m, const float* bias, float* y,
               amx_dense::Bf16Parts parts = amx_dense::Bf16Parts::kHiAndLo) {
  if (parts == amx_dense::Bf16Parts::kHiOnly) {
    // Rounded once here, so that the last rows of W (paired_rows, float32 x) see the values
    // the tiles see. The calling thread's buffer, reused.
    thread_local AlignedVector<float> rounded;
    RoundToBf16Floats(x, static_cast<size_t>(m) * w.cols, &rounded);
    x = rounded.data();
  }
  const int pass_rows = kAmxPassGroups * amx_dense::MaxPackedTokens(parts);
  for (int first = 0; first < m; first += pass_rows) {
    AmxPass(ctx, w, x + static_cast<size_t>(first) * w.cols, std::min(pass_rows, m - first), bias,
            y + static_cast<size_t>(first) * w.rows, parts);
  }
}

// x laid out for avx2_rows::Bf16Rows in the calling thread's buffer (the pool's workers get
// its address; valid until this thread's next call).
const float* Avx2PairLayout(const float* x, int64_t m, int64_t cols) {
  thread_local AlignedVector<float> laid_out;
  laid_out.resize(static_cast<size_t>(m * cols));
  avx2_rows::Bf16PairLayout(x, static_cast<int>(m), static_cast<int>(cols), laid_out.data());
  return laid_out.data();
}

void DirectMatmul(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m,
                  const float* bias, float* y, KernelIsa isa) {
  if (UsesAmx(isa, m, w.cols, amx_dense::Bf16Parts::kHiAndLo)) {
    AmxMatmul(ctx, w, x, m, bias, y);
    return;
  }
  const bool avx512 = UsesAvx512(isa);
  const bool avx2 = !avx512 && UsesAvx2(isa);
  const float* laid_out = avx2 ? Avx2PairLayout(x, m, w.cols) : nullptr;
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx512) {
      paired_rows::Rows<Bf16Lanes>(w.data, w.rows, w.cols, x, m, nullptr, bias, y, begin, end);
    } else if (avx2) {
      avx2_rows::Bf16Rows(w, laid_out, m, bias, y, begin, end);
    } else {
      DirectRowsPortable(w, x, m, bias, y, begin, end);
    }
  };
  row_kernels::ForRows(&ctx.pool(), w.rows, static_cast<int64_t>(w.rows) * w.cols * m, rows);
}

// `with_bias`: the primitive adds a float32 bias [n] to every row of dst.
absl::StatusOr<dnnl::matmul*> CachedMatmul(DnnlState& dnnl, int64_t m, int64_t k, int64_t n, bool with_bias) {
  const auto key = std::make_tuple(m, k, n, with_bias);
  auto it = dnnl.matmuls.find(key);
  if (it != dnnl.matmuls.end()) return &it->second;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  try {
    const dnnl::memory::desc src({m, k}, dt::bf16, tag::ab);
    const dnnl::memory::desc wei({k, n}, dt::bf16, tag::ba);  // W stored [n, k]
    const dnnl::memory::desc dst({m, n}, dt::f32, tag::ab);
    const dnnl::matmul::desc desc = with_bias
                                        ? dnnl::matmul::desc(src, wei, dnnl::memory::desc({1, n}, dt::f32, tag::ab), dst)
                                        : dnnl::matmul::desc(src, wei, dst);
    const dnnl::matmul::primitive_desc pd(desc, dnnl.engine);
    it = dnnl.matmuls.emplace(key, dnnl::matmul(pd)).first;
  } catch (const dnnl::error& e) {
    return absl::InternalError(std::string("oneDNN bf16 matmul creation failed: ") + e.what());
  }
  return &it->second;
}

}  // namespace

// Whether oneDNN has a bf16 matmul on this CPU: oneDNN 2.6 has none below AVX-512 (an AVX2
// machine cannot create the primitive). Decided once, by creating a small one.
bool OneDnnHasBf16Matmul() {
  static const bool has = [] {
    try {
      const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
      using dt = dnnl::memory::data_type;
      using tag = dnnl::memory::format_tag;
      const dnnl::memory::desc src({16, 16}, dt::bf16, tag::ab);
      const dnnl::memory::desc wei({16, 16}, dt::bf16, tag::ba);
      const dnnl::memory::desc dst({16, 16}, dt::f32, tag::ab);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), engine);
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}

namespace {

// dst[m, n] = src[m, k] . weights[n, k]^T (+ bias[n] when not null).
absl::Status RunBf16Matmul(DnnlState& dnnl, int64_t m, int64_t k, int64_t n, const uint16_t* src,
                           const uint16_t* weights, const float* bias, float* dst) {
  if (!OneDnnHasBf16Matmul()) {
    PortableBf16Matmul(dnnl, m, k, n, src, weights, bias, dst);
    return absl::OkStatus();
  }
  auto prim = CachedMatmul(dnnl, m, k, n, bias != nullptr);
  if (!prim.ok()) return prim.status();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  try {
    dnnl::memory src_mem({{m, k}, dt::bf16, tag::ab}, dnnl.engine, const_cast<uint16_t*>(src));
    dnnl::memory wei_mem({{k, n}, dt::bf16, tag::ba}, dnnl.engine,
                         const_cast<uint16_t*>(weights));
    dnnl::memory dst_mem({{m, n}, dt::f32, tag::ab}, dnnl.engine, dst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem}, {DNNL_ARG_DST, dst_mem}};
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, dnnl::memory({{1, n}, dt::f32, tag::ab}, dnnl.engine, const_cast<float*>(bias)));
    }
    if (dnnl.pool != nullptr) dnnl.pool->Park();
    (*prim)->execute(dnnl.stream, args);
    dnnl.stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(std::string("oneDNN bf16 matmul failed: ") + e.what());
  }
  return absl::OkStatus();
}

// bf16(x) for n values (round to nearest even; NaN stays NaN), as FloatToBf16.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void RoundToBf16Avx512(const float* x, int64_t n,
                                                                                     uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i rounded = row_kernels::Bf16Lanes(_mm512_loadu_ps(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_maskz_cvtepi32_epi16(kAllLanes, rounded));
  }
  for (; i < n; ++i) out[i] = FloatToBf16(x[i]);
}

absl::Status OneDnnMatmul(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m,
                          const float* bias, float* y, Bf16Activations precision, KernelIsa isa) {
  const SplitActivations split = SplitForBf16(x, m, w.cols, precision, isa);
  return SplitMatmul(ctx.dnnl(), split, w.data, w.rows, bias, y, w.rows);
}

}  // namespace

void PortableBf16Product(KernelContext& ctx, int64_t m, int64_t k, int64_t n, const uint16_t* src,
                         const uint16_t* weights, const float* bias, float* dst, KernelIsa isa) {
  PortableBf16Matmul(ctx.dnnl(), m, k, n, src, weights, bias, dst, isa);
}

void PortableBf16Matmul(DnnlState& dnnl, int64_t m, int64_t k, int64_t n, const uint16_t* src,
                        const uint16_t* weights, const float* bias, float* dst, KernelIsa isa) {
  // bf16 x widened to float32 is exact, so this is the direct kernels' product.
  std::vector<float>& x = dnnl.widened;
  x.resize(static_cast<size_t>(m * k));
  for (size_t i = 0; i < x.size(); ++i) x[i] = Bf16ToFloat(src[i]);
  const Bf16Matrix w{weights, static_cast<int>(n), static_cast<int>(k)};
  const bool avx2 = isa == KernelIsa::kAvx2 || (isa == KernelIsa::kBest && CpuHasAvx2Fma());
  const float* laid_out = avx2 ? Avx2PairLayout(x.data(), m, k) : nullptr;
  auto rows = [&](int64_t begin, int64_t end) {
    if (avx2) {
      avx2_rows::Bf16Rows(w, laid_out, static_cast<int>(m), bias, dst, begin, end);
    } else {
      DirectRowsPortable(w, x.data(), static_cast<int>(m), bias, dst, begin, end);
    }
  };
  row_kernels::ForRows(dnnl.pool, n, m * k * n, rows);
}

void RoundToBf16Floats(const float* x, size_t n, AlignedVector<float>* out) {
  out->resize(n);
  for (size_t i = 0; i < n; ++i) (*out)[i] = Bf16ToFloat(FloatToBf16(x[i]));
}

SplitActivations SplitForBf16(const float* x, int m, int k, Bf16Activations precision, KernelIsa isa) {
  SplitActivations split;
  split.m = m;
  split.k = k;
  split.padded = (m + kRowPadding - 1) / kRowPadding * kRowPadding;
  split.parts = precision == Bf16Activations::kSplit ? 2 : 1;
  split.rows.assign(static_cast<size_t>(split.parts * split.padded * k), 0);
  const bool avx512 = isa == KernelIsa::kAvx512 || (isa == KernelIsa::kBest && CpuHasAvx512());
  if (split.parts == 1 && avx512) {
    RoundToBf16Avx512(x, static_cast<int64_t>(m) * k, split.rows.data());
    return split;
  }
  for (int64_t t = 0; t < m; ++t) {
    for (int64_t c = 0; c < k; ++c) {
      const float value = x[t * k + c];
      const uint16_t hi = FloatToBf16(value);
      split.rows[t * k + c] = hi;
      if (split.parts == 2) split.rows[(split.padded + t) * k + c] = FloatToBf16(value - Bf16ToFloat(hi));
    }
  }
  return split;
}

absl::Status SplitProduct(DnnlState& dnnl, const SplitActivations& x, const uint16_t* w, int64_t n) {
  std::vector<float>& out = dnnl.matmul_out;
  const size_t needed = static_cast<size_t>(x.parts * x.padded * n);
  if (out.size() < needed) out.resize(needed);
  if (dnnl.zeros.size() < static_cast<size_t>(n)) dnnl.zeros.assign(n, 0.0f);
  return RunBf16Matmul(dnnl, x.parts * x.padded, x.k, n, x.rows.data(), w, nullptr, out.data());
}

void AddSplitRows(const DnnlState& dnnl, const SplitActivations& x, int64_t n, const float* bias, float* y,
                  int64_t ldy, int64_t t_begin, int64_t t_end) {
  // Branch-free inner loop (the compiler vectorises it): zeros stand in for a missing bias
  // or lo part.
  const float* add = bias ? bias : dnnl.zeros.data();
  const float* dst = dnnl.matmul_out.data();
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float* hi = dst + t * n;
    const float* lo = x.parts == 2 ? dst + (x.padded + t) * n : dnnl.zeros.data();
    float* out = y + t * ldy;
    for (int64_t r = 0; r < n; ++r) out[r] = hi[r] + lo[r] + add[r];
  }
}

absl::Status SplitMatmul(DnnlState& dnnl, const SplitActivations& x, const uint16_t* w, int64_t n,
                         const float* bias, float* y, int64_t ldy) {
  if (x.parts == 1 && x.padded == x.m && ldy == n) {
    // y has exactly the primitive's shape: oneDNN writes it and adds the bias itself.
    return RunBf16Matmul(dnnl, x.m, x.k, n, x.rows.data(), w, bias, y);
  }
  const absl::Status status = SplitProduct(dnnl, x, w, n);
  if (!status.ok()) return status;
  AddSplitRows(dnnl, x, n, bias, y, ldy, 0, x.m);
  return absl::OkStatus();
}

// The automatic paths' choice between oneDNN (split or rounded x) and our own kernels.
bool AutoRunsOnOneDnn(int m, int cols, KernelIsa isa, DensePath path) {
  if (!OneDnnHasBf16Matmul()) return false;
  if (path == DensePath::kAutoRounded) return !UsesAmx(isa, m, cols, amx_dense::Bf16Parts::kHiOnly);
  return (path == DensePath::kAuto && m >= kRoundedActivationMinRows) ||
         (m > kDirectMaxRows && !UsesAmx(isa, m, cols, amx_dense::Bf16Parts::kHiAndLo));
}

bool DenseMatmulRunsOnOneDnn(int m, int cols, DensePath path) {
  return m > 0 && AutoRunsOnOneDnn(m, cols, KernelIsa::kBest, path);
}

absl::Status DenseMatmul(KernelContext& ctx, const Bf16Matrix& w, const float* x, int m,
                         const float* bias, float* y, DensePath path, KernelIsa isa) {
  if (m <= 0 || w.rows <= 0) return absl::OkStatus();
  const bool automatic = path == DensePath::kAuto || path == DensePath::kAutoFloat32;
  if ((automatic || path == DensePath::kAutoRounded) && !OneDnnHasBf16Matmul()) {
    // oneDNN's product would be PortableBf16Matmul run on x's two bf16 parts: twice the
    // direct kernels' work on x itself, and no more exact. x is still rounded where the
    // path asks, so a prompt's numbers are those of CPUs with a bf16 matmul.
    const bool rounded = path == DensePath::kAutoRounded || (path == DensePath::kAuto && m >= kRoundedActivationMinRows);
    const float* input = x;
    if (rounded) {
      thread_local AlignedVector<float> rounded_x;  // the calling thread's, reused
      RoundToBf16Floats(x, static_cast<size_t>(m) * w.cols, &rounded_x);
      input = rounded_x.data();
    }
    DirectMatmul(ctx, w, input, m, bias, y, isa);
    return absl::OkStatus();
  }
  if (path == DensePath::kAutoRounded && UsesAmx(isa, m, w.cols, amx_dense::Bf16Parts::kHiOnly)) {
    AmxMatmul(ctx, w, x, m, bias, y, amx_dense::Bf16Parts::kHiOnly);
    return absl::OkStatus();
  }
  if (path == DensePath::kOneDnnRounded || path == DensePath::kAutoRounded ||
      (path == DensePath::kAuto && m >= kRoundedActivationMinRows)) {
    return OneDnnMatmul(ctx, w, x, m, bias, y, Bf16Activations::kRounded, isa);
  }
  if (path == DensePath::kOneDnn || (automatic && AutoRunsOnOneDnn(m, w.cols, isa, path))) {
    return OneDnnMatmul(ctx, w, x, m, bias, y, Bf16Activations::kSplit, isa);
  }
  DirectMatmul(ctx, w, x, m, bias, y, isa);
  return absl::OkStatus();
}

absl::StatusOr<double> MeasureBf16MatmulGflops(KernelContext& ctx, int n, int reps) {
  std::vector<uint16_t> a(static_cast<size_t>(n) * n, FloatToBf16(0.5f));
  std::vector<uint16_t> b(static_cast<size_t>(n) * n, FloatToBf16(0.25f));
  std::vector<float> c(static_cast<size_t>(n) * n);
  double best = 0.0;
  for (int i = 0; i < reps + 1; ++i) {  // the first run pays for primitive creation
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = RunBf16Matmul(ctx.dnnl(), n, n, n, a.data(), b.data(), nullptr, c.data());
    if (!status.ok()) return status;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i > 0) best = std::max(best, 2.0 * n * n * static_cast<double>(n) / seconds / 1e9);
  }
  return best;
}

}  // namespace warden::model
