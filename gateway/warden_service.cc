#include "gateway/warden_service.h"

#include "gateway/call_auth.h"
#include "gateway/status_mapping.h"

namespace warden::gateway {

grpc::Status WardenService::Generate(grpc::ServerContext* context, const v1::GenerateRequest*,
                                     v1::GenerateResponse*) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::APP);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  return ToGrpcStatus(absl::UnimplementedError("Generate is not built yet"));
}

grpc::Status WardenService::StreamGenerate(grpc::ServerContext* context, const v1::GenerateRequest*,
                                           grpc::ServerWriter<v1::GenerateChunk>*) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::APP);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  return ToGrpcStatus(absl::UnimplementedError("StreamGenerate is not built yet"));
}

grpc::Status WardenService::Moderate(grpc::ServerContext* context, const v1::ModerateRequest*,
                                     v1::ModerateResponse*) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::APP);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  return ToGrpcStatus(absl::UnimplementedError("Moderate is not built yet"));
}

}  // namespace warden::gateway
