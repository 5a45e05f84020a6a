// A fixed-size pool of worker threads for data-parallel loops (expert, attention and
// matmul row loops). Thread-safe: ParallelFor may be called from several threads, the
// calls are serialised. The pool owns its threads and joins them on destruction.
#ifndef WARDEN_MODEL_KERNELS_THREAD_POOL_H_
#define WARDEN_MODEL_KERNELS_THREAD_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace warden::model {

class ThreadPool {
 public:
  // `threads` <= 0 means one per hardware core.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(begin, end) over [0, n) split into at most size() contiguous chunks; the
  // caller's thread runs one chunk. Returns when every chunk is done.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop(int index);

  std::mutex run_mutex_;  // serialises ParallelFor calls
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;  // guarded by mutex_
  int64_t job_n_ = 0;
  int64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_THREAD_POOL_H_
