// The worker threads for data-parallel loops (expert, attention and matmul row loops).
//
// Two ways to run a loop, chosen by SetWaiting:
//  - kOpenMp (default): an OpenMP parallel region, the runtime oneDNN itself uses here
//    (Debian builds oneDNN with GNU OpenMP), so prefill's loops and oneDNN's matmuls share
//    one set of threads.
//  - kSpinning: the pool's own workers, which spin for about a millisecond after each loop
//    and then block. For decode: GNU OpenMP keeps one team per calling thread and, once the
//    process has more OpenMP threads than cores (the loading thread's team plus the engine
//    thread's team already makes 4 on 2 cores), spins only ~100 iterations before sleeping;
//    a decode step's ~250 short loops then made both engine threads sleep and wake at nearly
//    every loop (measured ~800 sleeps/s per thread). Used for prefill it was slower (the
//    pool's workers and oneDNN's team wake each other), hence the two modes.
// The constructor sets the constructing thread's OpenMP thread count.
//
// Thread safety: ParallelFor may be called from several threads: under kSpinning the calls
// are serialised (one loop at a time), under kOpenMp each runs its own parallel region.
// SetWaiting and Park may be called from any thread. A ParallelFor called from inside a
// body runs inline on that thread.
// Ownership: the pool owns its size() - 1 worker threads and joins them on destruction.
// Measured and dropped (session 16): balancing the matrix-row loops (each thread's share cut
// into 8 pieces, a thread done early taking pieces from the back of the other's share),
// against the threads waiting ~5-8 % of a decode step at loop ends (perf): the full 20b
// exact decode 6.13 / 6.10 against 6.23 / 6.14 tokens/s; kernels_bench from DRAM 0.5-7 %
// slower (float32 and int8 MXFP4, bf16 rows).
#ifndef WARDEN_MODEL_KERNELS_THREAD_POOL_H_
#define WARDEN_MODEL_KERNELS_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"

namespace warden::model {

class ThreadPool {
 public:
  // `threads` <= 0 means one per hardware core.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Runs fn(begin, end) over [0, n) split into at most size() contiguous chunks, one per
  // thread (the caller runs the first). Returns when every chunk is done.
  // `fn` is borrowed for the call (a FunctionRef: passing a lambda allocates nothing).
  void ParallelFor(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn);

  enum class Waiting { kOpenMp, kSpinning };
  // Applies to the following ParallelFor calls. Switching to kOpenMp parks the workers.
  void SetWaiting(Waiting waiting);
  Waiting waiting() const { return waiting_.load(std::memory_order_relaxed); }

  // Idle workers stop spinning and block now instead of after their spin time: called
  // before work that brings its own threads (oneDNN's OpenMP team), which would otherwise
  // share the cores with spinning workers. The next ParallelFor wakes them as usual.
  void Park();

 private:
  struct Job {
    const absl::FunctionRef<void(int64_t, int64_t)>* fn = nullptr;
    int64_t n = 0;
    int chunks = 0;
  };

  void SpinningParallelFor(int64_t n, int chunks, absl::FunctionRef<void(int64_t, int64_t)> fn);
  void WorkerLoop(int index);
  // Blocks until the generation differs from `seen` (spinning first); false on shutdown.
  bool AwaitJob(uint64_t seen);
  static void RunChunk(const Job& job, int index);

  int threads_;
  std::atomic<Waiting> waiting_{Waiting::kOpenMp};
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;               // one ParallelFor at a time
  Job job_;                             // written before generation_ is bumped
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};         // worker chunks of the current job not yet done
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> park_at_{~uint64_t{0}};  // workers idle at this generation block at once
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_THREAD_POOL_H_
