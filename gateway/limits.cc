#include "gateway/limits.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::gateway {

TokenBucket::TokenBucket(uint32_t per_minute)
    : per_minute_(per_minute), tokens_(per_minute), last_(absl::Now()) {}

void TokenBucket::Refill(absl::Time now) {
  const double minutes = std::max(0.0, absl::ToDoubleSeconds(now - last_) / 60.0);
  tokens_ = std::min(per_minute_, tokens_ + minutes * per_minute_);
  last_ = std::max(last_, now);
}

bool TokenBucket::TryTake(double amount, absl::Time now) {
  if (per_minute_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  Refill(now);
  if (tokens_ < amount) return false;
  tokens_ -= amount;
  return true;
}

void TokenBucket::Charge(double amount, absl::Time now) {
  if (per_minute_ <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  Refill(now);
  tokens_ = std::min(per_minute_, tokens_ - amount);
}

v1::Limits WithDefaults(const v1::Limits& limits) {
  v1::Limits out = limits;
  if (out.max_request_bytes() == 0) out.set_max_request_bytes(1 << 20);
  if (out.max_output_tokens() == 0) out.set_max_output_tokens(1024);
  if (out.max_moderate_batch() == 0) out.set_max_moderate_batch(32);
  return out;
}

int MaxReceiveBytes(const v1::ServerConfig& config) {
  uint64_t largest = WithDefaults(v1::Limits()).max_request_bytes();
  for (const auto& app : config.apps()) {
    largest = std::max<uint64_t>(largest, WithDefaults(app.limits()).max_request_bytes());
  }
  return static_cast<int>(std::min<uint64_t>(largest + (1 << 20), 64 << 20));
}

Admission& Admission::operator=(Admission&& other) noexcept {
  if (this != &other) {
    if (limiter_ != nullptr) limiter_->Release(app_id_, request_slot_, stream_);
    limiter_ = other.limiter_;
    app_id_ = std::move(other.app_id_);
    request_slot_ = other.request_slot_;
    stream_ = other.stream_;
    other.limiter_ = nullptr;
  }
  return *this;
}

Admission::~Admission() {
  if (limiter_ != nullptr) limiter_->Release(app_id_, request_slot_, stream_);
}

Limiter::Limiter(const v1::ServerConfig& config)
    : max_in_flight_(config.max_queued_requests() == 0 ? 256 : config.max_queued_requests()),
      default_limits_(WithDefaults(v1::Limits())) {
  for (const auto& app : config.apps()) {
    auto state = std::make_unique<AppState>();
    state->limits = WithDefaults(app.limits());
    state->requests = std::make_unique<TokenBucket>(state->limits.requests_per_minute());
    state->tokens = std::make_unique<TokenBucket>(state->limits.tokens_per_minute());
    apps_[app.id()] = std::move(state);
  }
}

const v1::Limits& Limiter::LimitsOf(const std::string& app_id) const {
  const auto it = apps_.find(app_id);
  return it == apps_.end() ? default_limits_ : it->second->limits;
}

int64_t Limiter::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

absl::StatusOr<Admission> Limiter::Admit(const std::string& app_id, bool stream, uint32_t estimated_tokens) {
  const auto it = apps_.find(app_id);
  if (it == apps_.end()) return absl::PermissionDeniedError(absl::StrCat("unknown app ", app_id));
  AppState& app = *it->second;
  // A request bigger than a whole minute's budget can never be admitted: say so, rather
  // than "reached", which invites retries that cannot succeed.
  if (app.limits.tokens_per_minute() != 0 && estimated_tokens > app.limits.tokens_per_minute()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "limit tokens_per_minute (", app.limits.tokens_per_minute(), ") exceeded by this request alone: about ",
        estimated_tokens, " tokens (request bytes / 4, plus the output allowance for Generate); send less text or ask "
        "for fewer tokens"));
  }
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_flight_ >= max_in_flight_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("limit max_queued_requests (", max_in_flight_, ") reached: the server is busy, retry later"));
    }
    ++in_flight_;
  }
  Admission admission;
  admission.limiter_ = this;
  admission.app_id_ = app_id;
  {
    std::lock_guard<std::mutex> lock(app.mu);
    if (app.limits.max_concurrent_requests() != 0 &&
        app.requests_in_flight >= static_cast<int>(app.limits.max_concurrent_requests())) {
      return absl::ResourceExhaustedError(absl::StrCat("limit max_concurrent_requests (",
                                                       app.limits.max_concurrent_requests(), ") reached for app ",
                                                       app_id));
    }
    ++app.requests_in_flight;
    admission.request_slot_ = true;
  }
  if (stream) {
    std::lock_guard<std::mutex> lock(app.mu);
    if (app.limits.max_concurrent_streams() != 0 &&
        app.streams >= static_cast<int>(app.limits.max_concurrent_streams())) {
      return absl::ResourceExhaustedError(absl::StrCat("limit max_concurrent_streams (",
                                                       app.limits.max_concurrent_streams(), ") reached for app ", app_id));
    }
    ++app.streams;
    admission.stream_ = true;
  }
  if (!app.requests->TryTake(1, now)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("limit requests_per_minute (", app.limits.requests_per_minute(), ") reached for app ", app_id));
  }
  if (!app.tokens->TryTake(estimated_tokens, now)) {
    app.requests->Charge(-1, now);  // A refused request does not count against requests_per_minute.
    return absl::ResourceExhaustedError(
        absl::StrCat("limit tokens_per_minute (", app.limits.tokens_per_minute(), ") reached for app ", app_id));
  }
  return admission;
}

void Limiter::SettleTokens(const std::string& app_id, uint32_t estimated_tokens, uint64_t used_tokens) {
  const auto it = apps_.find(app_id);
  if (it != apps_.end()) {
    it->second->tokens->Charge(static_cast<double>(used_tokens) - static_cast<double>(estimated_tokens), absl::Now());
  }
}

void Limiter::Release(const std::string& app_id, bool request_slot, bool stream) {
  const auto it = apps_.find(app_id);
  if (it != apps_.end()) {
    std::lock_guard<std::mutex> lock(it->second->mu);
    if (request_slot) --it->second->requests_in_flight;
    if (stream) --it->second->streams;
  }
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
}

}  // namespace warden::gateway
