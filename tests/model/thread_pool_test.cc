// ThreadPool in both waiting modes: every index exactly once, concurrent and nested
// callers, workers that went to sleep (or were parked) wake for the next loop.
#include "model/kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace warden::model {
namespace {

using Waiting = ThreadPool::Waiting;

// Runs a loop over [0, n) and checks that every index was visited exactly once.
void ExpectEachIndexOnce(ThreadPool& pool, int64_t n) {
  std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
  pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(visits[static_cast<size_t>(i)].load(), 1) << "index " << i << " of " << n;
}

class ThreadPoolTest : public ::testing::TestWithParam<Waiting> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    // libgomp is not built with TSan: its barriers are invisible to it (false reports).
    if (GetParam() == Waiting::kOpenMp) GTEST_SKIP() << "OpenMP mode is not checkable under TSan";
#endif
  }
};

TEST_P(ThreadPoolTest, VisitsEveryIndexOnceForAnySize) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    pool.SetWaiting(GetParam());
    for (int64_t n : {0, 1, 2, 3, 7, 1000}) ExpectEachIndexOnce(pool, n);
  }
}

TEST_P(ThreadPoolTest, ManyBackToBackLoopsAllComplete) {
  ThreadPool pool(2);
  pool.SetWaiting(GetParam());
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 2000; ++round) {
    pool.ParallelFor(10, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
    });
  }
  EXPECT_EQ(sum.load(), 2000 * 45);
}

TEST_P(ThreadPoolTest, WorkersWakeAfterSleepingOrParking) {
  ThreadPool pool(2);
  pool.SetWaiting(GetParam());
  ExpectEachIndexOnce(pool, 64);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the spin time: asleep
  ExpectEachIndexOnce(pool, 64);
  pool.Park();
  ExpectEachIndexOnce(pool, 64);
  pool.SetWaiting(Waiting::kOpenMp);
  pool.SetWaiting(GetParam());
  ExpectEachIndexOnce(pool, 64);
}

TEST_P(ThreadPoolTest, ConcurrentCallersEachGetTheirOwnLoop) {
  ThreadPool pool(2);
  pool.SetWaiting(GetParam());
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        const int64_t n = 17 + c;
        std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
        pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
        });
        for (auto& v : visits) failures += v.load() != 1;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(ThreadPoolTest, NestedLoopRunsInlineWithoutDeadlock) {
  ThreadPool pool(2);
  pool.SetWaiting(GetParam());
  std::atomic<int64_t> inner{0};
  pool.ParallelFor(4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      pool.ParallelFor(8, [&](int64_t b, int64_t e) { inner.fetch_add(e - b); });
    }
  });
  EXPECT_EQ(inner.load(), 32);
}

INSTANTIATE_TEST_SUITE_P(BothModes, ThreadPoolTest, ::testing::Values(Waiting::kOpenMp, Waiting::kSpinning),
                         [](const ::testing::TestParamInfo<Waiting>& info) {
                           return info.param == Waiting::kOpenMp ? std::string("OpenMp") : std::string("Spinning");
                         });

}  // namespace
}  // namespace warden::model
