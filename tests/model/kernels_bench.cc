// Throughput of the engine's kernels at gpt-oss-20b shapes (Google Benchmark; prints
// numbers, asserts nothing). bazel run -c opt //tests/model:kernels_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "model/kernels/aligned_vector.h"
#include "model/kernels/amx_dense.h"
#include "model/kernels/attention.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/expert_matmul.h"
#include "model/kernels/huge_pages.h"
#include "model/kernels/int8_dense.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/kernels/thread_pool.h"
#include "model/unquantised_experts.h"

namespace warden::model {
namespace {

constexpr int kHidden = 2880;

// The kernel set a benchmark's argument asks for: 0 portable, 1 AVX-512, 2 AVX2; false (and
// the benchmark skipped) when this CPU cannot run it.
bool PickIsa(benchmark::State& state, int64_t arg, KernelIsa* isa) {
  constexpr KernelIsa kIsas[] = {KernelIsa::kPortable, KernelIsa::kAvx512, KernelIsa::kAvx2};
  *isa = kIsas[arg];
  if ((*isa == KernelIsa::kAvx512 && !CpuHasAvx512()) || (*isa == KernelIsa::kAvx2 && !CpuHasAvx2Fma())) {
    state.SkipWithError("this CPU cannot run the kernel");
    return false;
  }
  return true;
}

// When `status` is not OK, skips the benchmark with the kernel's own message (a path this
// CPU cannot run says which feature it lacks) and returns true: the caller then leaves its
// timing loop. SkipWithError copies the message.
bool SkippedOnError(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return false;
  state.SkipWithError(status.ToString().c_str());
  return true;
}

// range(1): kernels as PickIsa. range(3): rows of W — 2*2880 (8.8 MB, beyond L2: the memory-bound case) or 256 (390 KB, in
// L2: the kernel's compute ceiling).
void BM_Mxfp4Matmul(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(3)), cols = kHidden, m = static_cast<int>(state.range(0));
  KernelIsa isa;
  if (!PickIsa(state, state.range(1), &isa)) return;
  std::mt19937 rng(1);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows) * cols / 2), scales(static_cast<size_t>(rows) * cols / 32);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (auto& s : scales) s = static_cast<uint8_t>(118 + rng() % 4);
  std::vector<float> x(static_cast<size_t>(m) * cols, 0.5f), y(static_cast<size_t>(m) * rows);
  ThreadPool pool(static_cast<int>(state.range(2)));
  const Mxfp4Matrix w{blocks.data(), scales.data(), rows, cols};
  const auto activations = static_cast<Mxfp4Activations>(state.range(4));
  for (auto _ : state) {
    Mxfp4Matmul(w, x.data(), m, nullptr, y.data(), &pool, isa, activations);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * rows * cols * m * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["GB/s_weights"] = benchmark::Counter((blocks.size() + scales.size()) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
// range(4): activations as in BM_Mxfp4DecodeFromMemory.
BENCHMARK(BM_Mxfp4Matmul)->ArgsProduct({{1, 8, 32}, {0, 1, 2}, {1, 2}, {2 * kHidden, 256}, {0, 1}})->UseRealTime();

void BM_ExpertMatmul(benchmark::State& state) {
  const int rows = 2 * kHidden, cols = kHidden, m = static_cast<int>(state.range(0));
  constexpr ExpertPath kPaths[] = {ExpertPath::kPacked, ExpertPath::kDequantizeOneDnn,
                                   ExpertPath::kDequantizeOneDnnRounded, ExpertPath::kFusedAmx,
                                   ExpertPath::kFusedAmxRounded};
  const ExpertPath path = kPaths[state.range(1)];
  auto ctx = KernelContext::Create({2});
  std::mt19937 rng(1);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows) * cols / 2), scales(static_cast<size_t>(rows) * cols / 32);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (auto& s : scales) s = static_cast<uint8_t>(118 + rng() % 4);
  std::vector<float> x(static_cast<size_t>(m) * cols, 0.5f), y(static_cast<size_t>(m) * rows);
  const Mxfp4Matrix w{blocks.data(), scales.data(), rows, cols};
  for (auto _ : state) {
    if (SkippedOnError(state, ExpertMatmul(**ctx, w, x.data(), m, nullptr, y.data(), path))) break;
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * rows * cols * m * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpertMatmul)->ArgsProduct({{4, 8, 16, 32, 64, 128}, {0, 1, 2}})->UseRealTime();
BENCHMARK(BM_ExpertMatmul)->ArgsProduct({{1, 2, 3, 4, 5, 6, 8, 12, 16}, {0, 3}})->UseRealTime();
BENCHMARK(BM_ExpertMatmul)->ArgsProduct({{24, 32, 64, 128, 256}, {2, 3, 4}})->UseRealTime();

// Expansion of an mlp1-sized MXFP4 matrix to bf16, 256 rows at a time into one reused
// buffer, as the expert prefill path does (without the matmul in between).
void BM_DequantizeMxfp4(benchmark::State& state) {
  const int rows = 2 * kHidden, cols = kHidden, tile = 256;
  std::mt19937 rng(1);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows) * cols / 2), scales(static_cast<size_t>(rows) * cols / 32);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (auto& s : scales) s = static_cast<uint8_t>(118 + rng() % 4);
  std::vector<uint16_t> out(static_cast<size_t>(tile) * cols);
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (int r0 = 0; r0 < rows; r0 += tile) {
      const Mxfp4Matrix part{blocks.data() + static_cast<size_t>(r0) * cols / 2,
                             scales.data() + static_cast<size_t>(r0) * cols / 32, tile, cols};
      DequantizeMxfp4ToBf16(part, out.data(), &pool);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["Gelem/s"] =
      benchmark::Counter(static_cast<double>(rows) * cols * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DequantizeMxfp4)->Arg(1)->Arg(2)->UseRealTime();

// Packing x for the AMX kernels (amx_dense::Pack), one thread. range(0): tokens,
// range(1): 0 = hi and lo columns, 1 = hi only.
void BM_AmxPack(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  const auto parts = state.range(1) == 0 ? amx_dense::Bf16Parts::kHiAndLo : amx_dense::Bf16Parts::kHiOnly;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(m) * kHidden);
  for (float& v : x) v = dist(rng);
  amx_dense::PackedActivations packed;
  for (auto _ : state) {
    amx_dense::Pack(x.data(), m, kHidden, &packed, parts);
    benchmark::DoNotOptimize(packed.data.data());
  }
  state.counters["Gvalues/s"] = benchmark::Counter(1.0 * m * kHidden * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AmxPack)->Args({8, 0})->Args({16, 0})->Args({32, 1})->UseRealTime();

// Grouped-query attention of `rows` query rows over n cached positions, gpt-oss-20b's
// layout (8 kv heads of 64, 8 query heads each; a position's keys of all kv heads in one
// row, as the KV cache holds them), one thread, every (row, kv head) pair kv head major as
// the engine's float32 path runs them. range(0): n; range(1): rows.
void BM_AttendHeads(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), rows = static_cast<int>(state.range(1));
  constexpr int kKvHeads = 8, kGroup = 8, kDim = 64;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> keys(static_cast<size_t>(n) * kKvHeads * kDim), values(keys.size());
  std::vector<float> queries(static_cast<size_t>(rows) * kKvHeads * kGroup * kDim), sinks(kKvHeads * kGroup);
  for (std::vector<float>* v : {&keys, &values, &queries, &sinks}) {
    for (float& x : *v) x = dist(rng);
  }
  std::vector<const float*> key_rows(n), value_rows(n);
  std::vector<float> scores(static_cast<size_t>(n) * kGroup), out(queries.size());
  for (auto _ : state) {
    for (int head = 0; head < kKvHeads; ++head) {
      for (int p = 0; p < n; ++p) {
        key_rows[p] = &keys[(static_cast<size_t>(p) * kKvHeads + head) * kDim];
        value_rows[p] = &values[(static_cast<size_t>(p) * kKvHeads + head) * kDim];
      }
      for (int r = 0; r < rows; ++r) {
        AttentionGroupInput in;
        const size_t offset = (static_cast<size_t>(r) * kKvHeads + head) * kGroup * kDim;
        in.queries = &queries[offset];
        in.sinks = &sinks[head * kGroup];
        in.heads = kGroup;
        in.keys = key_rows.data();
        in.values = value_rows.data();
        in.n = n;
        in.head_dim = kDim;
        in.scale = 0.125f;
        AttendHeads(in, scores.data(), &out[offset]);
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  // Multiply-adds of q.k and of the weighted values: 2 per dimension, key and query head.
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * kDim * n * rows * kKvHeads * kGroup * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AttendHeads)->ArgsProduct({{128, 1016, 4096}, {1, 16}})->UseRealTime();

// range(2): threads.
void BM_DenseMatmul(benchmark::State& state) {
  const int rows = 4096, cols = kHidden, m = static_cast<int>(state.range(0));
  auto ctx = KernelContext::Create({static_cast<int>(state.range(2))});
  // W and x on cache lines, as the engine's resident weights and activations.
  AlignedVector<uint16_t> w(static_cast<size_t>(rows) * cols, 0x3f00);
  AlignedVector<float> x(static_cast<size_t>(m) * cols, 0.5f);
  std::vector<float> y(static_cast<size_t>(m) * rows);
  const Bf16Matrix matrix{w.data(), rows, cols};
  constexpr DensePath kPaths[] = {DensePath::kDirect, DensePath::kOneDnn, DensePath::kOneDnnRounded};
  const DensePath path = kPaths[state.range(1)];
  for (auto _ : state) {
    if (SkippedOnError(state, DenseMatmul(**ctx, matrix, x.data(), m, nullptr, y.data(), path))) break;
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * rows * cols * m * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["GB/s_weights"] = benchmark::Counter(2.0 * rows * cols * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DenseMatmul)->ArgsProduct({{1, 4, 8, 64, 512}, {0, 1, 2}, {1, 2}})->UseRealTime();

// Many distinct MXFP4 matrices of `rows` x 2880 (more bytes than any cache: this host's L3
// is 480 MB, so >= 1 GB) in huge-page memory as the engine's resident weights, random
// nibbles and scales near 1; the decode benchmarks take them one per call, cycling.
struct MatricesInMemory {
  explicit MatricesInMemory(int rows)
      : rows(rows),
        count(static_cast<int>(int64_t{1100} * 1000 * 1000 / (static_cast<int64_t>(rows) * kHidden * 17 / 32))),
        block_bytes(static_cast<size_t>(rows) * kHidden / 2),
        scale_bytes(static_cast<size_t>(rows) * kHidden / 32),
        blocks(block_bytes * count),
        scales(scale_bytes * count) {
    std::mt19937 rng(1);
    for (auto& b : blocks) b = static_cast<uint8_t>(rng());
    for (auto& s : scales) s = static_cast<uint8_t>(118 + rng() % 4);
  }
  Mxfp4Matrix Matrix(int i) const { return {blocks.data() + block_bytes * i, scales.data() + scale_bytes * i, rows, kHidden}; }
  // The rate counter of `iterations` calls (one matrix each).
  benchmark::Counter GbPerS(int64_t iterations) const {
    return benchmark::Counter(static_cast<double>(block_bytes + scale_bytes) * iterations / 1e9,
                              benchmark::Counter::kIsRate);
  }

  const int rows, count;
  const size_t block_bytes, scale_bytes;
  std::vector<uint8_t, HugePageAllocator<uint8_t>> blocks, scales;
};

// Decode as it meets memory: one to three tokens against MatricesInMemory on `range(0)`
// threads. GB/s_weights is what the kernel streams from DRAM; compare with `oss bench`'s
// read_bandwidth_gb_per_s.
void BM_Mxfp4DecodeFromMemory(benchmark::State& state) {
  const MatricesInMemory matrices(static_cast<int>(state.range(2)));
  const auto activations = static_cast<Mxfp4Activations>(state.range(1));
  const int m = static_cast<int>(state.range(3));
  std::vector<float> x(static_cast<size_t>(kHidden) * m, 0.5f), y(static_cast<size_t>(matrices.rows) * m);
  ThreadPool pool(static_cast<int>(state.range(0)));
  pool.SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's decode steps
  int i = 0;
  for (auto _ : state) {
    Mxfp4Matmul(matrices.Matrix(i), x.data(), m, nullptr, y.data(), &pool, KernelIsa::kBest, activations);
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % matrices.count;
  }
  state.counters["GB/s_weights"] = matrices.GbPerS(state.iterations());
}
// range(1): activations 0 float32, 1 int8; range(2): rows (an expert's gate/up and down
// products of gpt-oss-20b, and a small one: per-call costs show as a lower rate); range(3):
// tokens (2-16: an expert shared by a batch's tokens).
BENCHMARK(BM_Mxfp4DecodeFromMemory)->ArgsProduct({{1, 2}, {0, 1}, {2 * kHidden, kHidden, 720}, {1, 2, 3, 4, 8, 16}})->UseRealTime();

// The floor under BM_Mxfp4DecodeFromMemory: the same matrices, rows split across the pool
// as the kernel's are, only read (64-bit sums of the blocks and the scales, one prefetch
// per line 12 KB ahead as the float32 kernel's; the int8 kernel's is 6 KB), no arithmetic
// on the values. The gap between the
// two is what the kernels' arithmetic costs from DRAM.
void BM_StreamMxfp4LayoutFromMemory(benchmark::State& state) {
  const MatricesInMemory matrices(static_cast<int>(state.range(1)));
  const size_t row_bytes = kHidden / 2, row_scales = kHidden / 32;
  ThreadPool pool(static_cast<int>(state.range(0)));
  pool.SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's decode steps
  std::vector<uint64_t> sums(matrices.rows);
  int i = 0;
  for (auto _ : state) {
    const Mxfp4Matrix w = matrices.Matrix(i);
    const char* b = reinterpret_cast<const char*>(w.blocks);
    const char* s = reinterpret_cast<const char*>(w.scales);
    pool.ParallelFor(w.rows, [&](int64_t begin, int64_t end) {
      uint64_t sum = 0;
      for (const char* p = b + begin * row_bytes; p < b + end * row_bytes; p += 64) {
        __builtin_prefetch(p + 12288);
        uint64_t line[8];
        std::memcpy(line, p, sizeof(line));
        for (uint64_t word : line) sum += word;
      }
      for (const char* p = s + begin * row_scales; p + 8 <= s + end * row_scales; p += 8) {
        uint64_t word;
        std::memcpy(&word, p, sizeof(word));
        sum += word;
      }
      sums[begin] = sum;
    });
    benchmark::DoNotOptimize(sums.data());
    i = (i + 1) % matrices.count;
  }
  state.counters["GB/s_weights"] = matrices.GbPerS(state.iterations());
}
BENCHMARK(BM_StreamMxfp4LayoutFromMemory)->ArgsProduct({{1, 2}, {2 * kHidden, kHidden}})->UseRealTime();

// range(0): threads; range(1): rows of x (1 = decode, 8 = a batch of 8); range(2): 0 kBest
// (AMX from 3 rows where the CPU has it), else the kernels of PickIsa(range(2) - 1).
void BM_DenseDecodeFromMemory(benchmark::State& state) {
  const int rows = 4096, cols = kHidden, count = 48;  // 48 x 23.6 MB
  const int m = static_cast<int>(state.range(1));
  KernelIsa isa = KernelIsa::kBest;
  if (state.range(2) > 0 && !PickIsa(state, state.range(2) - 1, &isa)) return;
  const size_t elements = static_cast<size_t>(rows) * cols;
  std::vector<uint16_t, HugePageAllocator<uint16_t>> w(elements * count, 0x3f00);
  AlignedVector<float> x(static_cast<size_t>(m) * cols, 0.5f);
  std::vector<float> y(static_cast<size_t>(m) * rows);
  auto ctx = KernelContext::Create({static_cast<int>(state.range(0))});
  (*ctx)->pool().SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's decode steps
  int i = 0;
  for (auto _ : state) {
    const Bf16Matrix matrix{w.data() + elements * i, rows, cols};
    if (SkippedOnError(state, DenseMatmul(**ctx, matrix, x.data(), m, nullptr, y.data(), DensePath::kDirect, isa))) {
      break;
    }
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % count;
  }
  state.counters["GB/s_weights"] =
      benchmark::Counter(2.0 * elements * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DenseDecodeFromMemory)->ArgsProduct({{1, 2}, {1, 8, 16}, {0, 1, 2, 3}})->UseRealTime();
BENCHMARK(BM_DenseDecodeFromMemory)->ArgsProduct({{2}, {2, 3, 4, 6}, {0}})->UseRealTime();

// Float32 rows of x as the engine's exact decode of many sequences runs them
// (DensePath::kAutoFloat32: AMX groups in passes of 8, or oneDNN's split product on a CPU
// without AMX), W from memory; 2 threads. range(0): rows of x; range(1): 1 for rows rounded to bf16 instead
// (DensePath::kAutoRounded, a prompt chunk's rows).
void BM_DenseFloatRowsFromMemory(benchmark::State& state) {
  const int rows = 4096, cols = kHidden, count = 48;  // 48 x 23.6 MB
  const int m = static_cast<int>(state.range(0));
  const size_t elements = static_cast<size_t>(rows) * cols;
  std::vector<uint16_t, HugePageAllocator<uint16_t>> w(elements * count, 0x3f00);
  AlignedVector<float> x(static_cast<size_t>(m) * cols, 0.5f);
  std::vector<float> y(static_cast<size_t>(m) * rows);
  auto ctx = KernelContext::Create({2});
  const DensePath path = state.range(1) ? DensePath::kAutoRounded : DensePath::kAutoFloat32;
  if (!DenseMatmulRunsOnOneDnn(m, cols, path)) {
    (*ctx)->pool().SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's steps off oneDNN
  }
  int i = 0;
  for (auto _ : state) {
    const Bf16Matrix matrix{w.data() + elements * i, rows, cols};
    if (SkippedOnError(state, DenseMatmul(**ctx, matrix, x.data(), m, nullptr, y.data(), path))) break;
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % count;
  }
  state.counters["GB/s_weights"] =
      benchmark::Counter(2.0 * elements * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DenseFloatRowsFromMemory)->ArgsProduct({{32, 64, 65, 96, 128, 192, 256}, {0}})->UseRealTime();
BENCHMARK(BM_DenseFloatRowsFromMemory)->ArgsProduct({{64, 65, 128, 256, 512}, {1}})->UseRealTime();

// range(0): threads; range(1): rows of x (tokens).
void BM_Int8DecodeFromMemory(benchmark::State& state) {
  const int rows = 4096, cols = kHidden, count = 96;  // 96 x 11.8 MB
  const int m = static_cast<int>(state.range(1));
  auto ctx = KernelContext::Create({static_cast<int>(state.range(0))});
  (*ctx)->pool().SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's decode steps
  std::vector<uint16_t> bf16(static_cast<size_t>(rows) * cols, 0x3f00);
  std::vector<Int8Matrix> matrices;
  for (int i = 0; i < count; ++i) matrices.push_back(QuantizeRows(Bf16Matrix{bf16.data(), rows, cols}, (*ctx)->pool()));
  std::vector<float> x(static_cast<size_t>(m) * cols, 0.5f), y(static_cast<size_t>(m) * rows);
  int i = 0;
  for (auto _ : state) {
    Int8DenseMatmul(**ctx, matrices[i], x.data(), m, nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % count;
  }
  state.counters["GB/s_weights"] =
      benchmark::Counter(static_cast<double>(rows) * cols * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8DecodeFromMemory)->ArgsProduct({{1, 2}, {1}})->UseRealTime();
BENCHMARK(BM_Int8DecodeFromMemory)->ArgsProduct({{2}, {2, 3, 4, 6, 8, 16}})->UseRealTime();

// Load-time quantisation of unquantised (bf16) experts: two experts of 20b's gate_up_proj
// ([H, 2I] transposed, 16.6 M weights, 33 MB each) per iteration, on every core (a worker per
// expert). A full 20b checkpoint has 24 layers x 32 experts x 1.5 of one such expert.
void BM_QuantiseBf16Experts(benchmark::State& state) {
  const int experts = 2, rows = 2 * kHidden, cols = kHidden;
  std::vector<uint16_t> bf16(static_cast<size_t>(experts) * rows * cols);
  uint32_t lcg = 5;
  for (auto& v : bf16) {
    lcg = lcg * 1664525u + 1013904223u;
    v = FloatToBf16((static_cast<float>(lcg >> 8) / 16777216.0f - 0.5f) * 0.04f);
  }
  TensorView view;
  view.name = "gate_up_proj";
  view.dtype = DType::kBF16;
  view.dtype_name = "BF16";
  view.shape = {experts, cols, rows};
  view.data = reinterpret_cast<const uint8_t*>(bf16.data());
  view.size_bytes = bf16.size() * 2;
  for (auto _ : state) {
    auto quantised = QuantiseTransposedExperts(view, experts, rows, cols);
    if (!quantised.ok()) state.SkipWithError("quantisation failed");
    benchmark::DoNotOptimize(quantised);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(bf16.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bf16.size()) * 2);
}
BENCHMARK(BM_QuantiseBf16Experts)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace warden::model

BENCHMARK_MAIN();
