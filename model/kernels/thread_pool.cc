#include "model/kernels/thread_pool.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>

namespace warden::model {
namespace {

// How long an idle worker spins before it blocks: longer than the gaps between the loops
// of a decode step (microseconds to a few hundred), short enough that an idle engine
// stops using CPU at once.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(1000);

thread_local bool in_parallel_body = false;

inline void CpuRelax() { _mm_pause(); }

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = threads;
  omp_set_num_threads(threads_);  // oneDNN's OpenMP regions on this thread
  workers_.reserve(static_cast<size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stopping_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

// Equal shares. Session 19 measured other two-thread splits (first share 48 / 52 / 54 %,
// kernels_bench decode products from DRAM): no trend beyond the ±5 % run-to-run noise.
void ThreadPool::RunChunk(const Job& job, int index) {
  if (index >= job.chunks) return;
  const int64_t per = job.n / job.chunks, extra = job.n % job.chunks;
  const int64_t begin = index * per + std::min<int64_t>(index, extra);
  const int64_t end = begin + per + (index < extra ? 1 : 0);
  if (begin < end) (*job.fn)(begin, end);
}

void ThreadPool::SetWaiting(Waiting waiting) {
  if (waiting_.exchange(waiting) != waiting && waiting == Waiting::kOpenMp) Park();
}

void ThreadPool::ParallelFor(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(n, threads_));
  // Nested (a body's own loop): inline. OpenMP would run a nested region on one thread and
  // skip every chunk but the first.
  if (chunks == 1 || in_parallel_body || omp_in_parallel()) {
    fn(0, n);
    return;
  }
  if (waiting_.load(std::memory_order_relaxed) == Waiting::kSpinning) {
    SpinningParallelFor(n, chunks, fn);
    return;
  }
  const Job job{&fn, n, chunks};
#pragma omp parallel num_threads(chunks)
  RunChunk(job, omp_get_thread_num());
}

void ThreadPool::SpinningParallelFor(int64_t n, int chunks, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  std::lock_guard<std::mutex> call(call_mutex_);
  job_ = Job{&fn, n, chunks};
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes job_, ordered against sleeping_ below
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(sleep_mutex_);  // a worker between its check and wait holds it
    wake_.notify_all();
  }
  in_parallel_body = true;
  RunChunk(job_, 0);
  in_parallel_body = false;
  for (int spins = 0; pending_.load(std::memory_order_acquire) > 0; ++spins) {
    if (spins < 4096) {
      CpuRelax();
    } else {
      std::this_thread::yield();  // a worker without a core: let it run
    }
  }
}

void ThreadPool::Park() { park_at_.store(generation_.load(), std::memory_order_relaxed); }

bool ThreadPool::AwaitJob(uint64_t seen) {
  const auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  for (int spins = 0; generation_.load(std::memory_order_acquire) == seen; ++spins) {
    CpuRelax();
    if ((spins & 255) == 255 && (park_at_.load(std::memory_order_relaxed) == seen ||
                                 std::chrono::steady_clock::now() > spin_until)) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleeping_.fetch_add(1);  // seq_cst: a publisher that misses it has already bumped generation_
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleeping_.fetch_sub(1);
      break;
    }
  }
  return !stopping_.load();
}

void ThreadPool::WorkerLoop(int index) {
  in_parallel_body = true;  // any ParallelFor a body makes on this thread runs inline
  uint64_t seen = 0;
  while (AwaitJob(seen)) {
    seen = generation_.load(std::memory_order_acquire);
    RunChunk(job_, index);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace warden::model
