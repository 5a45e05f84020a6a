// The one place where absl::Status becomes grpc::Status.
#ifndef WARDEN_GATEWAY_STATUS_MAPPING_H_
#define WARDEN_GATEWAY_STATUS_MAPPING_H_

#include <cstddef>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace warden::gateway {

// Longest status message sent; longer ones are cut (at a UTF-8 boundary) and marked.
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// Same code (the enums share their numbering), same message up to kMaxStatusMessageBytes.
// Stateless and thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_STATUS_MAPPING_H_
