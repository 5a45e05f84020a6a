// FairMutex: waiters get the mutex in arrival order, so a thread that unlocks and locks
// again at once waits behind a thread that was already waiting.
#include "base/fair_mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace warden {
namespace {

void WaitForHoldersAndWaiters(const FairMutex& mutex, uint64_t count) {
  while (mutex.holders_and_waiters() < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(FairMutex, AWaiterRunsBeforeTheHolderTakesItAgain) {
  FairMutex mutex;
  std::vector<char> order;  // Guarded by mutex.
  mutex.lock();
  std::thread waiter([&] {
    std::lock_guard<FairMutex> lock(mutex);
    order.push_back('w');
  });
  WaitForHoldersAndWaiters(mutex, 2);  // The waiter has its ticket.
  // A chunk loop: unlock and at once lock again, three times.
  for (int chunk = 0; chunk < 3; ++chunk) {
    order.push_back('h');
    mutex.unlock();
    mutex.lock();
  }
  order.push_back('h');
  mutex.unlock();
  waiter.join();
  EXPECT_EQ(std::string(order.begin(), order.end()), "hwhhh");
}

TEST(FairMutex, WaitersAreServedInArrivalOrder) {
  FairMutex mutex;
  std::vector<int> order;  // Guarded by mutex.
  mutex.lock();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::lock_guard<FairMutex> lock(mutex);
      order.push_back(i);
    });
    WaitForHoldersAndWaiters(mutex, static_cast<uint64_t>(i) + 2);  // Thread i waits before i + 1 starts.
  }
  mutex.unlock();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(mutex.holders_and_waiters(), 0u);
}

TEST(FairMutex, TryLockFailsWhileHeldOrAwaited) {
  FairMutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  EXPECT_FALSE(mutex.try_lock());
  mutex.unlock();
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

TEST(FairMutex, ManyThreadsCountCorrectly) {
  FairMutex mutex;
  int64_t total = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        std::lock_guard<FairMutex> lock(mutex);
        ++total;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(total, 8000);
}

}  // namespace
}  // namespace warden
