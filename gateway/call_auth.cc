#include "gateway/call_auth.h"

#include <string_view>

#include "base/status_macros.h"

namespace warden::gateway {

absl::StatusOr<Principal> AuthenticateCall(const grpc::ServerContext& context,
                                           const Authenticator& authenticator, v1::KeyRole required) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  const std::string_view header = it == metadata.end() ? std::string_view()
                                                       : std::string_view(it->second.data(), it->second.size());
  ASSIGN_OR_RETURN(Principal principal, authenticator.Authenticate(header));
  RETURN_IF_ERROR(RequireRole(principal, required));
  return principal;
}

}  // namespace warden::gateway
