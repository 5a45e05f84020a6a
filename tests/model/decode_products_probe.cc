// Decode-product probe: the rates of one decode token's matrix products on a real
// checkpoint's weights, outside the forward pass, so that what the kernels reach from DRAM
// on the real layout can be compared with what the model reaches in place (`oss bench`).
// kernels_bench's "FromMemory" buffers can partly fit a large L3; these weights do not.
// Per pass, one token's worth: the attention projections of every layer (bf16), four
// experts' two products per layer (float32 and int8 activations in turn) and the
// unembedding. Every matrix is touched once beforehand, so first-touch page faults are not
// counted. Prints numbers, asserts nothing. Usage:
//   bazel run -c opt //tests/model:decode_products_probe -- MODEL_DIR [THREADS] [PASSES]
// Run with GOMP_SPINCOUNT=20000, as the oss binary does (model/kernels/openmp_env.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/kernels/dense.h"
#include "model/kernels/kernel_context.h"
#include "model/kernels/mxfp4.h"
#include "model/weights.h"

namespace warden::model {
namespace {

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Mxfp4Bytes(const Mxfp4Matrix& m) { return m.rows * (m.cols / 2.0 + m.cols / 32.0); }

void PrintRate(const char* what, double bytes, double seconds) {
  std::printf("%-28s %8.1f ms %6.2f GB/s\n", what, seconds * 1e3, bytes / seconds / 1e9);
}

int Run(const char* dir, int threads, int passes, Residency residency) {
  auto config = LoadConfig(dir);
  if (!config.ok()) return std::fprintf(stderr, "%s\n", config.status().ToString().c_str()), 1;
  auto weights = ModelWeights::Load(dir, *config, residency);
  if (!weights.ok()) return std::fprintf(stderr, "%s\n", weights.status().ToString().c_str()), 1;
  auto ctx = KernelContext::Create({threads});
  if (!ctx.ok()) return std::fprintf(stderr, "%s\n", ctx.status().ToString().c_str()), 1;
  const auto& layers = (*weights)->layers();
  const Bf16Matrix& unembedding = (*weights)->unembedding();
  std::vector<float> x(static_cast<size_t>(config->hidden_size) * 4 + config->intermediate_size * 4, 0.01f);
  std::vector<float> y(static_cast<size_t>(unembedding.rows) + 4 * config->intermediate_size * 2);
  ThreadPool* pool = &(*ctx)->pool();
  pool->SetWaiting(ThreadPool::Waiting::kSpinning);  // as the engine's decode steps
  // Touch every matrix once, so that page faults (and a cold page cache) are not counted.
  for (const LayerWeights& layer : layers) {
    for (const Bf16Matrix* m : {&layer.q, &layer.k, &layer.v, &layer.o}) {
      if (!DenseMatmul(**ctx, *m, x.data(), 1, nullptr, y.data()).ok()) return 1;
    }
    for (size_t e = 0; e < layer.mlp1.size(); ++e) {
      Mxfp4Matmul(layer.mlp1[e], x.data(), 1, nullptr, y.data(), pool);
      Mxfp4Matmul(layer.mlp2[e], x.data(), 1, nullptr, y.data(), pool);
    }
  }
  if (!DenseMatmul(**ctx, unembedding, x.data(), 1, nullptr, y.data()).ok()) return 1;
  for (int pass = 0; pass < passes; ++pass) {
    double start = Seconds(), bytes = 0;
    for (const LayerWeights& layer : layers) {
      for (const Bf16Matrix* m : {&layer.q, &layer.k, &layer.v, &layer.o}) {
        if (!DenseMatmul(**ctx, *m, x.data(), 1, nullptr, y.data()).ok()) return 1;
        bytes += 2.0 * m->rows * m->cols;
      }
    }
    PrintRate("attention projections bf16", bytes, Seconds() - start);
    for (Mxfp4Activations activations : {Mxfp4Activations::kFloat32, Mxfp4Activations::kInt8}) {
      start = Seconds();
      bytes = 0;
      for (size_t l = 0; l < layers.size(); ++l) {
        const int experts = static_cast<int>(layers[l].mlp1.size());
        for (int k = 0; k < 4 && k < experts; ++k) {
          const int e = static_cast<int>((k * 7 + l * 3 + pass) % experts);  // a different 4 each layer
          for (const Mxfp4Matrix* m : {&layers[l].mlp1[e], &layers[l].mlp2[e]}) {
            Mxfp4Matmul(*m, x.data(), 1, nullptr, y.data(), pool, KernelIsa::kBest, activations);
            bytes += Mxfp4Bytes(*m);
          }
        }
      }
      PrintRate(activations == Mxfp4Activations::kInt8 ? "experts, int8 activations" : "experts, float32",
                bytes, Seconds() - start);
    }
    start = Seconds();
    if (!DenseMatmul(**ctx, unembedding, x.data(), 1, nullptr, y.data()).ok()) return 1;
    PrintRate("unembedding bf16", 2.0 * unembedding.rows * unembedding.cols, Seconds() - start);
  }
  return 0;
}

}  // namespace
}  // namespace warden::model

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: decode_products_probe MODEL_DIR [THREADS] [PASSES] [resident|mapped]\n");
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 4;
  // The engine's default (LoadOptions::weight_memory) unless told otherwise.
  const bool mapped = argc > 4 && std::string(argv[4]) == "mapped";
  return warden::model::Run(argv[1], threads, passes,
                            mapped ? warden::model::Residency::kMapped : warden::model::Residency::kResident);
}
