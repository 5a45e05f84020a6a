// Time of one Sampler::Sample call on a gpt-oss-sized vocabulary (201,088 logits), for the
// sampling options apps send. Prints Google Benchmark's table; asserts nothing.
//
//   bazel build -c opt //tests/sampling:sampler_bench && bazel-bin/tests/sampling/sampler_bench
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/sampler.h"

namespace warden::model {
namespace {

constexpr int kVocab = 201088;

// Logits shaped like a language model's: a few likely tokens over a broad normal spread
// (`spread` is the standard deviation; a trained model's is larger, a random one's tiny).
std::vector<float> Logits(float spread) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> logits(kVocab);
  for (float& logit : logits) logit = normal(rng);
  for (int i = 0; i < 20; ++i) logits[(i * 7919) % kVocab] = 4.0f * spread + static_cast<float>(20 - i) * 0.3f;
  return logits;
}

// Arguments: top_p in percent, top_k, logit spread.
void BM_Sample(benchmark::State& state) {
  SamplingOptions options;
  options.temperature = 1.0f;
  options.top_p = static_cast<float>(state.range(0)) / 100.0f;
  options.top_k = static_cast<int>(state.range(1));
  options.seed = 7;
  const std::vector<float> logits = Logits(static_cast<float>(state.range(2)));
  Sampler sampler(options);
  for (auto _ : state) benchmark::DoNotOptimize(sampler.Sample(logits));
}
BENCHMARK(BM_Sample)
    ->ArgNames({"top_p%", "top_k", "spread"})
    ->Args({100, 0, 3})
    ->Args({95, 0, 3})
    ->Args({90, 0, 1})
    ->Args({95, 0, 0})
    ->Args({100, 40, 3})
    ->Args({95, 40, 3})
    ->Args({100, 1000000, 3})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace warden::model

BENCHMARK_MAIN();
