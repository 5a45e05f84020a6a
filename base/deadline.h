// When long work (an LLM classifier's prefill, a batch of judgements) must stop: at a time,
// or earlier when its caller cancels (a client that went away).
#ifndef WARDEN_BASE_DEADLINE_H_
#define WARDEN_BASE_DEADLINE_H_

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace warden {

// A value; cheap to copy. The cancellation test is called from whichever thread checks the
// deadline, so it must be thread-safe, and whatever it reads must outlive every copy
// (in the gateway: the call's gRPC context, alive until the handler returns).
class Deadline {
 public:
  // A plain time is a deadline nobody cancels (implicit: every absl::Time converts).
  Deadline(absl::Time time = absl::InfiniteFuture()) : time_(time) {}  // NOLINT(google-explicit-constructor)
  Deadline(absl::Time time, std::function<bool()> cancelled) : time_(time), cancelled_(std::move(cancelled)) {}

  absl::Time time() const { return time_; }
  bool cancelled() const { return cancelled_ && cancelled_(); }
  // True once the time has passed or the caller cancelled.
  bool Reached() const { return cancelled() || absl::Now() > time_; }
  // Why the work stops: DEADLINE_EXCEEDED once the time has passed, else CANCELLED when the
  // caller cancelled. The time first: gRPC's cancellation test also turns true when the
  // call's deadline passes, and that is no client leaving. Only meaningful when Reached().
  absl::Status ReachedError(std::string_view what) const {
    if (absl::Now() > time_ || !cancelled()) {
      return absl::DeadlineExceededError(std::string(what) + ": its time budget or deadline passed");
    }
    return absl::CancelledError(std::string(what) + ": the caller cancelled");
  }
  // The same cancellation, stopping at `time` if that is earlier.
  Deadline AtMost(absl::Time time) const { return Deadline(std::min(time, time_), cancelled_); }
  // Reached when any of `deadlines` is: the earliest time, and any one's cancellation
  // (asked once each, however many there are; none: never reached).
  static Deadline Earliest(std::vector<Deadline> deadlines) {
    absl::Time time = absl::InfiniteFuture();
    std::vector<std::function<bool()>> cancels;
    for (Deadline& deadline : deadlines) {
      time = std::min(time, deadline.time_);
      if (deadline.cancelled_) cancels.push_back(std::move(deadline.cancelled_));
    }
    if (cancels.empty()) return Deadline(time);
    if (cancels.size() == 1) return Deadline(time, std::move(cancels.front()));
    return Deadline(time, [cancels = std::move(cancels)] {
      for (const auto& cancelled : cancels) {
        if (cancelled()) return true;
      }
      return false;
    });
  }

 private:
  absl::Time time_;
  std::function<bool()> cancelled_;  // Empty: never cancelled.
};

}  // namespace warden

#endif  // WARDEN_BASE_DEADLINE_H_
