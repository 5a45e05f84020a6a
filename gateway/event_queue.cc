#include "gateway/event_queue.h"

namespace warden::gateway {

bool EventQueue::Push(const GenerationEvent& event) {
  std::unique_lock<std::mutex> lock(mu_);
  if (bytes_ >= high_ && !cancelled_) {
    paused_ = true;
    const absl::Time start = absl::Now();
    changed_.wait(lock, [this] { return !paused_ || cancelled_; });
    paused_total_ += absl::Now() - start;
  }
  if (cancelled_) return false;
  bytes_ += event.text.size();
  events_.push_back(event);
  changed_.notify_all();
  return true;
}

std::optional<GenerationEvent> EventQueue::Pop(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return !events_.empty(); });
  if (events_.empty()) return std::nullopt;
  GenerationEvent event = std::move(events_.front());
  events_.pop_front();
  bytes_ -= event.text.size();
  if (paused_ && bytes_ <= low_) {
    paused_ = false;
    changed_.notify_all();
  }
  return event;
}

void EventQueue::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  changed_.notify_all();
}

absl::Duration EventQueue::paused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return paused_total_;
}

}  // namespace warden::gateway
