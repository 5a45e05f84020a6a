// A mutex that goes to its waiters in the order they arrived (a ticket lock on a condition
// variable).
//
// Why: std::mutex lets a thread that unlocks and at once locks again take it back before a
// woken waiter gets to run. The engine is shared by the scheduler (a decode step for every
// stream) and the LLM policy classifier (prefill chunk after chunk); with std::mutex the
// classifier could keep the engine for a whole long classification while every stream
// waits. With this one a waiting step runs between two of its chunks.
//
// Meets Lockable (lock, unlock, try_lock), so std::lock_guard and std::unique_lock work.
// Not recursive. Thread-safe.
#ifndef WARDEN_BASE_FAIR_MUTEX_H_
#define WARDEN_BASE_FAIR_MUTEX_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace warden {

class FairMutex {
 public:
  FairMutex() = default;
  FairMutex(const FairMutex&) = delete;
  FairMutex& operator=(const FairMutex&) = delete;

  void lock() {
    std::unique_lock<std::mutex> state(state_);
    const uint64_t ticket = next_ticket_++;
    turn_.wait(state, [&] { return now_serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> state(state_);
      ++now_serving_;
    }
    turn_.notify_all();
  }
  // Takes the mutex only when nobody holds it or waits for it.
  bool try_lock() {
    std::lock_guard<std::mutex> state(state_);
    if (next_ticket_ != now_serving_) return false;
    ++next_ticket_;
    return true;
  }
  // Threads that hold the mutex or wait for it (for tests).
  uint64_t holders_and_waiters() const {
    std::lock_guard<std::mutex> state(state_);
    return next_ticket_ - now_serving_;
  }

 private:
  mutable std::mutex state_;
  std::condition_variable turn_;
  uint64_t next_ticket_ = 0;  // Guarded by state_.
  uint64_t now_serving_ = 0;  // Guarded by state_: the ticket that holds (or may take) the mutex.
};

}  // namespace warden

#endif  // WARDEN_BASE_FAIR_MUTEX_H_
