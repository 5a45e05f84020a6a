// The Admin service (policies and audit trail). Every call needs an ADMIN key.
// Thread-safe: the service holds only shared state that is itself thread-safe.
#ifndef WARDEN_GATEWAY_ADMIN_SERVICE_H_
#define WARDEN_GATEWAY_ADMIN_SERVICE_H_

#include "gateway/server_state.h"
#include "proto/warden.grpc.pb.h"

namespace warden::gateway {

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(ServerState* state) : state_(state) {}

  grpc::Status ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest* request,
                            v1::ListPoliciesResponse* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::GetPolicyResponse* response) override;
  grpc::Status ValidatePolicies(grpc::ServerContext* context, const v1::ValidatePoliciesRequest* request,
                                v1::ValidatePoliciesResponse* response) override;
  grpc::Status ReloadPolicies(grpc::ServerContext* context, const v1::ReloadPoliciesRequest* request,
                              v1::ReloadPoliciesResponse* response) override;
  grpc::Status QueryAudit(grpc::ServerContext* context, const v1::QueryAuditRequest* request,
                          v1::QueryAuditResponse* response) override;
  grpc::Status GetAuditRecord(grpc::ServerContext* context, const v1::GetAuditRecordRequest* request,
                              v1::AuditRecord* response) override;

 private:
  ServerState* state_;  // Not owned; outlives the service.
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_ADMIN_SERVICE_H_
