// API-key authentication. Keys arrive as `authorization: Bearer <key>` metadata; the
// configuration stores only their SHA-256. The presented key is hashed and compared with
// every configured hash in constant time. Keys are never logged or stored.
#ifndef WARDEN_GATEWAY_AUTH_H_
#define WARDEN_GATEWAY_AUTH_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace warden::gateway {

// Who is calling.
struct Principal {
  std::string app_id;
  v1::KeyRole role = v1::KEY_ROLE_UNSPECIFIED;
  std::string key_label;  // The key's label from the config, safe to log.
};

// Immutable after construction; thread-safe.
class Authenticator {
 public:
  explicit Authenticator(const v1::ServerConfig& config);

  // `authorization` is the metadata value ("Bearer <key>"). UNAUTHENTICATED when it is
  // missing, malformed or unknown (one message for all, so callers learn nothing).
  absl::StatusOr<Principal> Authenticate(std::string_view authorization) const;

 private:
  struct Entry {
    std::string sha256_hex;
    Principal principal;
  };
  std::vector<Entry> entries_;
};

// PERMISSION_DENIED unless `principal` has at least `required` (ADMIN includes APP).
absl::Status RequireRole(const Principal& principal, v1::KeyRole required);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_AUTH_H_
