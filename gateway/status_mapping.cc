#include "gateway/status_mapping.h"

#include <string>

#include "base/utf8.h"

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
  // Messages may quote request fields (an id, a file name). The message travels in a
  // trailer, and a trailer over the client's metadata limit (8 KB by default) turns the
  // answer into a bare RESOURCE_EXHAUSTED on the client: keep it short.
  if (message.size() > kMaxStatusMessageBytes) {
    message.resize(Utf8BoundaryAtOrBefore(message, kMaxStatusMessageBytes));
    message += "... (message truncated)";
  }
  return grpc::Status(grpc_code, message);
}

}  // namespace warden::gateway
