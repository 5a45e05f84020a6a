// The one place where absl::Status becomes grpc::Status.
#ifndef WARDEN_GATEWAY_STATUS_MAPPING_H_
#define WARDEN_GATEWAY_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace warden::gateway {

// Same code (the enums share their numbering), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_STATUS_MAPPING_H_
