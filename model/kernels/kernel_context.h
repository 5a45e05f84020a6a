// Everything the kernels keep between calls: the oneDNN engine and stream, the cache of
// oneDNN primitives (created once per shape, reused on every later call) and the thread
// pool. Passed explicitly to kernels; there are no globals.
//
// Thread safety: not thread-safe. One thread at a time uses a context (the Engine holds
// its own mutex around every forward pass). Ownership: the caller owns the context; it
// owns the pool and all oneDNN objects.
#ifndef WARDEN_MODEL_KERNELS_KERNEL_CONTEXT_H_
#define WARDEN_MODEL_KERNELS_KERNEL_CONTEXT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "model/kernels/thread_pool.h"

namespace warden::model {

struct DnnlState;  // defined in dnnl_state.h, visible to kernels only

struct KernelOptions {
  int threads = 0;  // <= 0: one per hardware core
};

class KernelContext {
 public:
  static absl::StatusOr<std::unique_ptr<KernelContext>> Create(const KernelOptions& options);
  ~KernelContext();
  KernelContext(const KernelContext&) = delete;
  KernelContext& operator=(const KernelContext&) = delete;

  ThreadPool& pool() { return pool_; }
  DnnlState& dnnl() { return *dnnl_; }

 private:
  KernelContext(int threads, std::unique_ptr<DnnlState> dnnl);

  ThreadPool pool_;
  std::unique_ptr<DnnlState> dnnl_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_KERNEL_CONTEXT_H_
