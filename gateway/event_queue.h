// The hold-back queue between the model's thread and a call's handler thread: a bounded
// FIFO of generation events with high and low watermarks (counted in text bytes). When the
// handler or its client is slow, Push() blocks at the high watermark — pausing that
// generation — until the handler has drained it below the low watermark.
// Thread-safe: one producer (model thread), one consumer (handler thread).
#ifndef WARDEN_GATEWAY_EVENT_QUEUE_H_
#define WARDEN_GATEWAY_EVENT_QUEUE_H_

#include <cstddef>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "gateway/model_runner.h"

namespace warden::gateway {

class EventQueue {
 public:
  EventQueue(size_t high_watermark_bytes, size_t low_watermark_bytes)
      : high_(high_watermark_bytes), low_(low_watermark_bytes) {}

  // Appends `event`; blocks while the queue is at or above the high watermark. Returns false
  // (dropping the event) once Cancel() was called: the producer must stop. The consumer's
  // own thread may push too (a generation's final flush), but then only less than the high
  // watermark in all, or it would wait for itself.
  bool Push(const GenerationEvent& event);

  // Takes the oldest event, waiting up to `timeout`; nullopt when none arrived.
  std::optional<GenerationEvent> Pop(absl::Duration timeout);

  // Wakes and refuses the producer from now on.
  void Cancel();

  // Total time Push() spent paused (for the hold-back wait metric).
  absl::Duration paused() const;

 private:
  const size_t high_;
  const size_t low_;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which then reports false races on absl::Mutex-guarded data.
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<GenerationEvent> events_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration paused_total_ ABSL_GUARDED_BY(mu_);
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_EVENT_QUEUE_H_
