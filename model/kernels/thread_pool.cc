#include "model/kernels/thread_pool.h"

#include <omp.h>

#include <algorithm>
#include <thread>

namespace warden::model {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = threads;
  omp_set_num_threads(threads_);
}

void ThreadPool::ParallelFor(int64_t n, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(n, threads_));
  if (chunks == 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel num_threads(chunks)
  {
    const int index = omp_get_thread_num();
    const int64_t per = n / chunks, extra = n % chunks;
    const int64_t begin = index * per + std::min<int64_t>(index, extra);
    const int64_t end = begin + per + (index < extra ? 1 : 0);
    if (begin < end) fn(begin, end);
  }
}

}  // namespace warden::model
