#include "gateway/auth.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/sha256.h"

namespace warden::gateway {

Authenticator::Authenticator(const v1::ServerConfig& config) {
  for (const auto& app : config.apps()) {
    for (const auto& key : app.api_keys()) {
      entries_.push_back(Entry{key.sha256(), Principal{app.id(), key.role(), key.label()}});
    }
  }
}

absl::StatusOr<Principal> Authenticator::Authenticate(std::string_view authorization) const {
  const absl::Status denied = absl::UnauthenticatedError(
      "missing or invalid API key: send metadata \"authorization: Bearer <key>\"");
  constexpr std::string_view kScheme = "Bearer ";
  // Debian's Abseil keeps its own string_view type, hence the explicit conversions.
  if (!absl::StartsWithIgnoreCase(absl::string_view(authorization.data(), authorization.size()),
                                  absl::string_view(kScheme.data(), kScheme.size()))) {
    return denied;
  }
  const std::string_view key = authorization.substr(kScheme.size());
  if (key.empty() || key.size() > 4096) return denied;
  const std::string presented = Sha256Hex(key);
  const Principal* match = nullptr;
  // Visit every entry so the time spent does not depend on which key matched.
  for (const auto& entry : entries_) {
    if (ConstantTimeEquals(presented, entry.sha256_hex)) match = &entry.principal;
  }
  if (match == nullptr) return denied;
  return *match;
}

absl::Status RequireRole(const Principal& principal, v1::KeyRole required) {
  if (required == v1::ADMIN && principal.role != v1::ADMIN) {
    return absl::PermissionDeniedError(
        absl::StrCat("this call needs an ADMIN key; the key of app \"", principal.app_id, "\" has role APP"));
  }
  return absl::OkStatus();
}

}  // namespace warden::gateway
