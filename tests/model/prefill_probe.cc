// Prefill timing probe for kernel work on a shared machine: loads a checkpoint, prefills
// a random prompt `reps` times and prints, per prefill, the wall time and the process CPU
// time (all threads), which other load on the machine disturbs far less than wall time.
// Prints numbers, asserts nothing. Usage:
//   bazel run -c opt //tests/model:prefill_probe -- MODEL_DIR [PROMPT_TOKENS] [REPS]
// Run with GOMP_SPINCOUNT=20000, as the oss binary does (model/kernels/openmp_env.h).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "model/engine.h"

namespace {

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: prefill_probe MODEL_DIR [PROMPT_TOKENS] [REPS]\n");
    return 2;
  }
  warden::model::LoadOptions options;
  options.model_dir = argv[1];
  options.threads = 2;
  const int tokens = argc > 2 ? std::atoi(argv[2]) : 512;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  auto engine = warden::model::Engine::Load(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::mt19937 rng(1);
  std::vector<int32_t> prompt(tokens);
  for (int32_t& t : prompt) t = static_cast<int32_t>(rng() % (*engine)->config().vocab_size);
  for (int i = 0; i < reps; ++i) {
    const auto seq = (*engine)->CreateSequence();
    const double cpu0 = ProcessCpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    const auto logits = (*engine)->Prefill(seq, prompt);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double cpu = ProcessCpuSeconds() - cpu0;
    if (!logits.ok()) {
      std::fprintf(stderr, "%s\n", logits.status().ToString().c_str());
      return 1;
    }
    std::printf("prefill %d tokens: wall %.3f s (%.1f tok/s), cpu %.3f s (%.1f tok/cpu-s)\n", tokens, wall,
                tokens / wall, cpu, tokens / cpu);
    (void)(*engine)->ReleaseSequence(seq);
  }
  return 0;
}
