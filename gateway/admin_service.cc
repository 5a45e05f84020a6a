#include "gateway/admin_service.h"

#include "absl/strings/str_cat.h"
#include "gateway/call_auth.h"
#include "gateway/status_mapping.h"

namespace warden::gateway {

grpc::Status AdminService::Unbuilt(const grpc::ServerContext& context, const char* what) const {
  const auto principal = AuthenticateCall(context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  return ToGrpcStatus(absl::UnimplementedError(absl::StrCat(what, " is not built yet")));
}

grpc::Status AdminService::ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest*,
                                        v1::ListPoliciesResponse*) {
  return Unbuilt(*context, "ListPolicies");
}
grpc::Status AdminService::GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest*,
                                     v1::GetPolicyResponse*) {
  return Unbuilt(*context, "GetPolicy");
}
grpc::Status AdminService::ValidatePolicies(grpc::ServerContext* context, const v1::ValidatePoliciesRequest*,
                                            v1::ValidatePoliciesResponse*) {
  return Unbuilt(*context, "ValidatePolicies");
}
grpc::Status AdminService::ReloadPolicies(grpc::ServerContext* context, const v1::ReloadPoliciesRequest*,
                                          v1::ReloadPoliciesResponse*) {
  return Unbuilt(*context, "ReloadPolicies");
}
grpc::Status AdminService::QueryAudit(grpc::ServerContext* context, const v1::QueryAuditRequest* request,
                                      v1::QueryAuditResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  auto result = state_->audit->Query(*request);
  if (result.ok()) *response = *std::move(result);
  return ToGrpcStatus(result.status());
}

grpc::Status AdminService::GetAuditRecord(grpc::ServerContext* context, const v1::GetAuditRecordRequest* request,
                                          v1::AuditRecord* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (request->request_id().empty()) return ToGrpcStatus(absl::InvalidArgumentError("request_id must be set"));
  auto result = state_->audit->Get(request->request_id());
  if (result.ok()) *response = *std::move(result);
  return ToGrpcStatus(result.status());
}

}  // namespace warden::gateway
