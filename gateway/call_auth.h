// Authenticates one gRPC call from its metadata.
#ifndef WARDEN_GATEWAY_CALL_AUTH_H_
#define WARDEN_GATEWAY_CALL_AUTH_H_

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "gateway/auth.h"

namespace warden::gateway {

// Reads `authorization` from the client metadata, authenticates it and checks `required`.
absl::StatusOr<Principal> AuthenticateCall(const grpc::ServerContext& context,
                                           const Authenticator& authenticator, v1::KeyRole required);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_CALL_AUTH_H_
