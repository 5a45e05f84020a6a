// Per-app rate and concurrency limits, and the global bound on requests in flight.
// Over a limit → RESOURCE_EXHAUSTED naming the limit. Thread-safe.
#ifndef WARDEN_GATEWAY_LIMITS_H_
#define WARDEN_GATEWAY_LIMITS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include <mutex>
#include "absl/time/time.h"
#include "proto/config.pb.h"

namespace warden::gateway {

// A token bucket refilled continuously at `per_minute` tokens per minute, holding at most
// one minute's worth. A rate of 0 means unlimited. Thread-safe.
class TokenBucket {
 public:
  explicit TokenBucket(uint32_t per_minute);
  // Takes `amount` tokens at time `now` if available.
  bool TryTake(double amount, absl::Time now);
  // Takes `amount` even when that goes negative (usage known only afterwards), so later
  // requests wait for the debt to be repaid. A negative amount gives tokens back (an
  // estimate above the use), up to one minute's worth.
  void Charge(double amount, absl::Time now);

 private:
  void Refill(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const double per_minute_;
  std::mutex mu_;  // std::mutex: see event_queue.h (ThreadSanitizer).
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

class Limiter;

// Holds one admitted request's slots (global queue, the app's request slot, and a stream
// slot if it streams);
// releases them when destroyed. Movable, not copyable.
class Admission {
 public:
  Admission() = default;
  Admission(Admission&& other) noexcept { *this = std::move(other); }
  Admission& operator=(Admission&& other) noexcept;
  ~Admission();

 private:
  friend class Limiter;
  Limiter* limiter_ = nullptr;
  std::string app_id_;
  bool request_slot_ = false;
  bool stream_ = false;
};

class Limiter {
 public:
  explicit Limiter(const v1::ServerConfig& config);

  // Admits one request of `app_id` estimated at `estimated_tokens`, or explains which
  // limit it hit. Every request takes one of the app's request slots
  // (max_concurrent_requests); `stream` requests also one of its stream slots.
  absl::StatusOr<Admission> Admit(const std::string& app_id, bool stream, uint32_t estimated_tokens);
  // Settles a request admitted at `estimated_tokens` that used `used_tokens` (prompt +
  // completion): the difference is charged to the app's tokens-per-minute bucket, or given
  // back when the estimate was higher.
  void SettleTokens(const std::string& app_id, uint32_t estimated_tokens, uint64_t used_tokens);

  // Limits of an app (defaults filled in).
  const v1::Limits& LimitsOf(const std::string& app_id) const;

  int64_t in_flight() const;

 private:
  friend class Admission;
  struct AppState {
    v1::Limits limits;
    std::unique_ptr<TokenBucket> requests;
    std::unique_ptr<TokenBucket> tokens;
    int streams ABSL_GUARDED_BY(mu) = 0;
    int requests_in_flight ABSL_GUARDED_BY(mu) = 0;
    mutable std::mutex mu;
  };
  void Release(const std::string& app_id, bool request_slot, bool stream);

  const uint32_t max_in_flight_;
  absl::flat_hash_map<std::string, std::unique_ptr<AppState>> apps_;  // Fixed after construction.
  v1::Limits default_limits_;
  mutable std::mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// The app's limits with Warden's defaults for fields left at zero.
v1::Limits WithDefaults(const v1::Limits& limits);

// The gRPC receive limit for `config`: the largest max_request_bytes of any app (at least
// the default 1 MiB) plus 1 MiB, so a request somewhat over its app's limit still gets
// Warden's own answer naming max_request_bytes; at most 64 MiB. Larger requests are
// refused by gRPC while they are read (RESOURCE_EXHAUSTED "Received message larger than
// max"), instead of being buffered whole, on every concurrent stream, only to be refused.
int MaxReceiveBytes(const v1::ServerConfig& config);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_LIMITS_H_
