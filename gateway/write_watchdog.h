// Cancels streaming writes that wait too long for their client.
//
// gRPC's synchronous ServerWriter::Write blocks while the client's HTTP/2 flow-control
// window is full, i.e. forever when a client opens a stream and stops reading. The call's
// generation then pauses on its full hold-back queue but keeps a scheduler slot, so a few
// such clients starve everyone else. Each Write registers here (Scope); a registration
// older than the timeout gets its `on_stall` callback (in the server: TryCancel on the
// call's ServerContext, which makes the blocked Write return false).
//
// Knows nothing of gRPC: a stall is reported through a plain callback, so it is tested
// without a server.
//
// Ownership: the watchdog owns one thread (started by the constructor, stopped and joined
// by the destructor) and the callbacks while they are registered.
// Thread safety: Register, Unregister and Scope may be used from any number of threads.
#ifndef WARDEN_GATEWAY_WRITE_WATCHDOG_H_
#define WARDEN_GATEWAY_WRITE_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace warden::gateway {

class WriteWatchdog {
 public:
  // How often the thread looks for stalled writes: a stall is reported between `timeout`
  // and `timeout` + kCheckInterval after its write began.
  static constexpr std::chrono::milliseconds kCheckInterval{100};

  // Starts the thread. `timeout` > 0.
  explicit WriteWatchdog(std::chrono::milliseconds timeout);
  // Stops and joins the thread. Registrations still pending are dropped: their callbacks
  // are not called (and must not be needed: the calls they watch are over by then).
  ~WriteWatchdog();
  WriteWatchdog(const WriteWatchdog&) = delete;
  WriteWatchdog& operator=(const WriteWatchdog&) = delete;

  std::chrono::milliseconds timeout() const { return timeout_; }

  using Id = uint64_t;
  // Watches a write that starts now: unless Unregister(id) comes first, `on_stall` runs once
  // on the watchdog's thread after `timeout`. `on_stall` must be quick and must not call
  // into this watchdog (it runs under its lock).
  Id Register(std::function<void()> on_stall);
  // Ends the watch. On return `on_stall` is not running and will never run. Unknown or
  // already reported ids are ignored.
  void Unregister(Id id);

  // Watches the writes in its lifetime (RAII for Register/Unregister). A null watchdog
  // watches nothing.
  class Scope {
   public:
    Scope(WriteWatchdog* watchdog, std::function<void()> on_stall)
        : watchdog_(watchdog), id_(watchdog ? watchdog->Register(std::move(on_stall)) : 0) {}
    ~Scope() {
      if (watchdog_ != nullptr) watchdog_->Unregister(id_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    WriteWatchdog* const watchdog_;
    const Id id_;
  };

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {
    Clock::time_point deadline;
    std::function<void()> on_stall;
  };
  void Run();

  const std::chrono::milliseconds timeout_;
  // std::mutex: Debian's Abseil is not ThreadSanitizer-instrumented (see event_queue.h).
  std::mutex mu_;
  std::condition_variable wake_;  // Signals stop_, and the first watch of an idle thread.
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<Id, Watch> watches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: started once the members above exist.
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_WRITE_WATCHDOG_H_
