// Measures how fast this machine's cores can stream memory, the ceiling of a decode step
// (which reads every active weight once). Thread-safe: allocates and reads its own buffer.
#ifndef WARDEN_MODEL_KERNELS_BANDWIDTH_H_
#define WARDEN_MODEL_KERNELS_BANDWIDTH_H_

#include <cstddef>

#include "model/kernels/thread_pool.h"

namespace warden::model {

// Best of `passes` reads of a `bytes` buffer split across the pool's threads, in GB/s.
// Uses 64-byte vector loads with independent accumulators where the CPU has AVX-512 (what
// the decode kernels use), so the figure is what the memory system delivers, not what one
// scalar loop can ask for. The buffer must be much larger than the caches (default 1 GiB).
double MeasureReadBandwidthGbPerS(ThreadPool& pool, size_t bytes = size_t{1} << 30, int passes = 5);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_BANDWIDTH_H_
