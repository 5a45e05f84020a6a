// The worker threads for data-parallel loops (expert, attention and matmul row loops).
// It runs on OpenMP, the runtime oneDNN itself uses here (Debian builds oneDNN with GNU
// OpenMP): one set of threads serves both, instead of two pools spinning against each
// other on the same cores.
//
// Thread safety: ParallelFor may be called from several threads; each call runs its own
// parallel region. Must not be called from inside a ParallelFor body (no nesting).
// Ownership: the OpenMP runtime owns the threads.
#ifndef WARDEN_MODEL_KERNELS_THREAD_POOL_H_
#define WARDEN_MODEL_KERNELS_THREAD_POOL_H_

#include <cstdint>
#include "absl/functional/function_ref.h"

namespace warden::model {

class ThreadPool {
 public:
  // `threads` <= 0 means one per hardware core. Also sets the constructing thread's
  // OpenMP default thread count, which oneDNN follows on that thread (on other threads
  // oneDNN uses OpenMP's default, one per core).
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Runs fn(begin, end) over [0, n) split into at most size() contiguous chunks, one per
  // thread. Returns when every chunk is done.
  // `fn` is borrowed for the call (a FunctionRef: passing a lambda allocates nothing).
  void ParallelFor(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn);

 private:
  int threads_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_THREAD_POOL_H_
