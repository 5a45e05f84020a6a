#include "gateway/event_queue.h"

namespace warden::gateway {

bool EventQueue::Push(const GenerationEvent& event) {
  absl::MutexLock lock(&mu_);
  if (bytes_ >= high_ && !cancelled_) {
    paused_ = true;
    const absl::Time start = absl::Now();
    mu_.Await(absl::Condition(
        +[](EventQueue* q) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !q->paused_ || q->cancelled_; }, this));
    paused_total_ += absl::Now() - start;
  }
  if (cancelled_) return false;
  bytes_ += event.text.size();
  events_.push_back(event);
  return true;
}

std::optional<GenerationEvent> EventQueue::Pop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(
                           +[](EventQueue* q) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !q->events_.empty(); }, this),
                       timeout);
  if (events_.empty()) return std::nullopt;
  GenerationEvent event = std::move(events_.front());
  events_.pop_front();
  bytes_ -= event.text.size();
  if (paused_ && bytes_ <= low_) paused_ = false;
  return event;
}

void EventQueue::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

absl::Duration EventQueue::paused() const {
  absl::MutexLock lock(&mu_);
  return paused_total_;
}

}  // namespace warden::gateway
