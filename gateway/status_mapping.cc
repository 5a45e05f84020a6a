#include "gateway/status_mapping.h"

#include <string>

namespace warden::gateway {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  // absl::StatusCode and grpc::StatusCode use the canonical numbering 0..16.
  const auto grpc_code = (code >= 0 && code <= 16) ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN;
  // Never an empty message: the parse-error interceptor reads INTERNAL with an empty
  // message as gRPC's own failure to parse the request.
  std::string message(status.message());
  if (message.empty()) message = "(no detail)";
  return grpc::Status(grpc_code, message);
}

}  // namespace warden::gateway
