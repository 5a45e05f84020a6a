#include "model/kernels/bandwidth.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "model/kernels/cpu_features.h"
#include "model/kernels/huge_pages.h"

namespace warden::model {
namespace {

constexpr size_t kFloatsPerLine = 16;

float SumPortable(const float* p, size_t n) {
  float s[4] = {0, 0, 0, 0};
  for (size_t i = 0; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) s[j] += p[i + j];
  }
  return s[0] + s[1] + s[2] + s[3];
}

// n is a multiple of 4 lines.
__attribute__((target("avx512f"))) float SumAvx512(const float* p, size_t n) {
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), c = _mm512_setzero_ps(), d = _mm512_setzero_ps();
  for (size_t i = 0; i < n; i += 4 * kFloatsPerLine) {
    a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
    b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + kFloatsPerLine));
    c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 2 * kFloatsPerLine));
    d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 3 * kFloatsPerLine));
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

}  // namespace

double MeasureReadBandwidthGbPerS(ThreadPool& pool, size_t bytes, int passes) {
  const size_t granule = 4 * kFloatsPerLine;
  const size_t n = std::max<size_t>(granule, bytes / sizeof(float) / granule * granule);
  // Huge pages, as the weights use: the limit the engine can reach, not a 4 KB-page one.
  std::vector<float, HugePageAllocator<float>> buffer(n, 1.0f);  // written once: resident
  const bool avx512 = CpuHasAvx512();
  const int64_t granules = static_cast<int64_t>(n / granule);
  double best = 0.0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<float> sums(pool.size(), 0.0f);
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(granules, [&](int64_t begin, int64_t end) {
      const float* p = buffer.data() + begin * granule;
      const size_t count = static_cast<size_t>(end - begin) * granule;
      sums[begin * pool.size() / granules] = avx512 ? SumAvx512(p, count) : SumPortable(p, count);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    float total = 0.0f;
    for (float s : sums) total += s;
    if (total <= 0.0f || seconds <= 0.0) continue;  // uses the sums, so the loads stay live
    best = std::max(best, static_cast<double>(n * sizeof(float)) / seconds / 1e9);
  }
  return best;
}

}  // namespace warden::model
