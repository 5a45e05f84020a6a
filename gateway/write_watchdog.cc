#include "gateway/write_watchdog.h"

#include <utility>

namespace warden::gateway {

WriteWatchdog::WriteWatchdog(std::chrono::milliseconds timeout) : timeout_(timeout), thread_([this] { Run(); }) {}

WriteWatchdog::~WriteWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

WriteWatchdog::Id WriteWatchdog::Register(std::function<void()> on_stall) {
  std::lock_guard<std::mutex> lock(mu_);
  const Id id = next_id_++;
  const bool was_idle = watches_.empty();
  watches_.emplace(id, Watch{Clock::now() + timeout_, std::move(on_stall)});
  if (was_idle) wake_.notify_one();
  return id;
}

void WriteWatchdog::Unregister(Id id) {
  std::lock_guard<std::mutex> lock(mu_);
  watches_.erase(id);
}

void WriteWatchdog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (watches_.empty()) {
      // Idle: sleep until a write is registered (most writes finish at once).
      wake_.wait(lock, [this] { return stop_ || !watches_.empty(); });
      continue;
    }
    wake_.wait_for(lock, kCheckInterval, [this] { return stop_; });
    if (stop_) break;
    const Clock::time_point now = Clock::now();
    for (auto it = watches_.begin(); it != watches_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      it->second.on_stall();  // Under the lock: Unregister cannot return while it runs.
      it = watches_.erase(it);
    }
  }
}

}  // namespace warden::gateway
