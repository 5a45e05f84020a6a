// oneDNN objects behind KernelContext. Included only by kernel sources. Not thread-safe
// (see KernelContext).
#ifndef WARDEN_MODEL_KERNELS_DNNL_STATE_H_
#define WARDEN_MODEL_KERNELS_DNNL_STATE_H_

#include <dnnl.hpp>

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "model/kernels/thread_pool.h"

namespace warden::model {

struct DnnlState {
  dnnl::engine engine;
  dnnl::stream stream;
  // bf16 [m, k] x bf16 [k, n] (stored [n, k]) -> f32 [m, n] (+ f32 bias [n]), keyed by
  // (m, k, n, with bias).
  std::map<std::tuple<int64_t, int64_t, int64_t, bool>, dnnl::matmul> matmuls;
  // Reused buffer for matmul outputs that are summed or strided into the caller's y.
  std::vector<float> matmul_out;
  // At least as many zeros as the widest output row seen (a stand-in for a null bias).
  std::vector<float> zeros;
  // Reused buffer for bf16 activations widened to f32 where oneDNN has no bf16 matmul
  // (dense.cc, PortableBf16Matmul).
  std::vector<float> widened;
  // Reused buffer for an expert matrix expanded to bf16 (see expert_matmul.h).
  std::vector<uint16_t> dequantized;
  // The context's pool, parked before each primitive runs (oneDNN brings its own OpenMP
  // threads; spinning pool workers would take their cores). Not owned.
  ThreadPool* pool = nullptr;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_DNNL_STATE_H_
