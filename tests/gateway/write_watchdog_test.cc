#include "gateway/write_watchdog.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kTimeout{50};
// Far longer than kTimeout + WriteWatchdog::kCheckInterval, for loaded machines.
constexpr milliseconds kGenerousWait{2000};

// Waits up to kGenerousWait for `count` to reach `want`.
bool WaitForCount(const std::atomic<int>& count, int want) {
  const auto end = std::chrono::steady_clock::now() + kGenerousWait;
  while (count.load() < want && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(5));
  return count.load() >= want;
}

TEST(WriteWatchdog, StalledWriteIsReportedExactlyOnce) {
  WriteWatchdog watchdog(kTimeout);
  std::atomic<int> stalls{0};
  WriteWatchdog::Scope write(&watchdog, [&stalls] { ++stalls; });
  ASSERT_TRUE(WaitForCount(stalls, 1));
  // Many more checks pass while the write is still registered: no second report.
  std::this_thread::sleep_for(5 * WriteWatchdog::kCheckInterval);
  EXPECT_EQ(stalls.load(), 1);
}

TEST(WriteWatchdog, WriteFinishedInTimeIsNotReported) {
  WriteWatchdog watchdog(kTimeout);
  std::atomic<int> stalls{0};
  { WriteWatchdog::Scope write(&watchdog, [&stalls] { ++stalls; }); }
  // A write registered after it does stall: once that is reported, the first one's
  // deadline has passed too, so it would have been reported by then.
  std::atomic<int> later_stalls{0};
  WriteWatchdog::Scope later(&watchdog, [&later_stalls] { ++later_stalls; });
  ASSERT_TRUE(WaitForCount(later_stalls, 1));
  EXPECT_EQ(stalls.load(), 0);
}

TEST(WriteWatchdog, OnlyTheStalledOneOfManyWritesIsReported) {
  WriteWatchdog watchdog(kTimeout);
  std::atomic<int> quick_stalls{0};
  std::atomic<int> slow_stalls{0};
  WriteWatchdog::Scope slow(&watchdog, [&slow_stalls] { ++slow_stalls; });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) WriteWatchdog::Scope quick(&watchdog, [&quick_stalls] { ++quick_stalls; });
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(WaitForCount(slow_stalls, 1));
  EXPECT_EQ(quick_stalls.load(), 0);
  EXPECT_EQ(slow_stalls.load(), 1);
}

TEST(WriteWatchdog, UnregisterWaitsForARunningCallback) {
  WriteWatchdog watchdog(kTimeout);
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto write = std::make_unique<WriteWatchdog::Scope>(&watchdog, [&] {
    started = true;
    std::this_thread::sleep_for(milliseconds(200));
    finished = true;
  });
  const auto end = std::chrono::steady_clock::now() + kGenerousWait;
  while (!started && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(started);
  write.reset();  // Unregister: must not return while the callback runs.
  EXPECT_TRUE(finished);
}

TEST(WriteWatchdog, DestructorWithPendingWritesDoesNotHangOrReport) {
  std::atomic<int> stalls{0};
  auto watchdog = std::make_unique<WriteWatchdog>(std::chrono::milliseconds(std::chrono::hours(1)));
  const WriteWatchdog::Id first = watchdog->Register([&stalls] { ++stalls; });
  const WriteWatchdog::Id second = watchdog->Register([&stalls] { ++stalls; });
  EXPECT_NE(first, second);
  watchdog.reset();  // A hang here times the test out.
  EXPECT_EQ(stalls.load(), 0);
}

TEST(WriteWatchdog, NullWatchdogScopeWatchesNothing) { WriteWatchdog::Scope write(nullptr, [] { FAIL(); }); }

}  // namespace
}  // namespace warden::gateway
