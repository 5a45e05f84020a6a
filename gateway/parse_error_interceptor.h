// Gives a request that does not parse a clear INVALID_ARGUMENT instead of gRPC's INTERNAL.
//
// gRPC's generated handlers deserialize the request before Warden's code runs; when that
// fails (a malformed message, or a proto3 `string` field holding invalid UTF-8, which
// protobuf refuses), gRPC answers INTERNAL with an empty message — a server fault by its
// code, and no hint for the caller. This server interceptor rewrites exactly that status
// (INTERNAL with an empty message; Warden's own errors always carry a message, see
// status_mapping) to INVALID_ARGUMENT naming the method and the likely cause.
// Thread safety: the factory is shared by all calls; each call gets its own interceptor.
#ifndef WARDEN_GATEWAY_PARSE_ERROR_INTERCEPTOR_H_
#define WARDEN_GATEWAY_PARSE_ERROR_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

namespace warden::gateway {

class ParseErrorInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_PARSE_ERROR_INTERCEPTOR_H_
