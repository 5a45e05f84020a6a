#include "gateway/admin_service.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/components.h"
#include "google/protobuf/text_format.h"
#include "policies/policy_loader.h"
#include "proto/policy.pb.h"
#include "gateway/call_auth.h"
#include "gateway/status_mapping.h"

namespace warden::gateway {
namespace {

// INVALID_ARGUMENT naming app_id and the configured apps (at most 20 of them).
absl::Status UnknownAppError(const ServerState& state, const std::string& app_id) {
  std::vector<std::string> known;
  for (const auto& [id, app] : state.apps) known.push_back(id);
  std::sort(known.begin(), known.end());
  std::string list;
  for (size_t i = 0; i < known.size() && i < 20; ++i) {
    absl::StrAppend(&list, i == 0 ? "" : ", ", "\"", known[i], "\"");
  }
  if (known.size() > 20) absl::StrAppend(&list, ", ... (", known.size(), " in all)");
  return absl::InvalidArgumentError(absl::StrCat("app_id \"", app_id,
                                                 "\" is not a configured app and no audit record has it "
                                                 "(app ids are case-sensitive; configured: ",
                                                 list.empty() ? "none" : list, ")"));
}

}  // namespace

grpc::Status AdminService::ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest*,
                                        v1::ListPoliciesResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  const auto policies = state_->policy_store->Current();
  response->set_policy_version(policies->version());
  for (const std::string& id : policies->ListSets()) {
    auto* summary = response->add_policy_sets();
    summary->set_id(id);
    const auto text = policies->GetSetTextProto(id);
    v1::PolicySet set;
    if (text.ok() && google::protobuf::TextFormat::ParseFromString(*text, &set)) {
      summary->set_description(set.description());
      summary->set_rule_count(set.rules_size());
      summary->set_shadow(set.shadow());
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                                     v1::GetPolicyResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  const auto policies = state_->policy_store->Current();
  auto text = policies->GetSetTextProto(request->id());
  if (!text.ok()) return ToGrpcStatus(text.status());
  response->set_policy_version(policies->version());
  response->set_text_proto(*std::move(text));
  return grpc::Status::OK;
}

grpc::Status AdminService::ValidatePolicies(grpc::ServerContext* context, const v1::ValidatePoliciesRequest* request,
                                            v1::ValidatePoliciesResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  std::map<std::string, std::string> texts(request->files().begin(), request->files().end());
  // Without files: what a reload would read now.
  std::vector<v1::ConfigError> errors;
  if (texts.empty()) {
    errors = ReadConfiguredPolicies(*state_, &texts);
    if (errors.empty()) errors = gateway::ValidatePolicies(*state_, texts);
  } else {
    errors = ValidateSentPolicies(*state_, texts);
  }
  for (auto& error : errors) *response->add_errors() = std::move(error);
  response->set_valid(response->errors_size() == 0);
  if (response->valid()) {
    auto compiled = policies::LoadPolicyTexts(texts);
    if (compiled.ok()) response->set_policy_version((*compiled)->version());
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::ReloadPolicies(grpc::ServerContext* context, const v1::ReloadPoliciesRequest*,
                                          v1::ReloadPoliciesResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  PolicyReload reload = gateway::ReloadPolicies(state_);
  response->set_reloaded(reload.reloaded);
  response->set_old_policy_version(reload.old_version);
  response->set_policy_version(reload.version);
  for (auto& error : reload.errors) *response->add_errors() = std::move(error);
  return grpc::Status::OK;
}

grpc::Status AdminService::QueryAudit(grpc::ServerContext* context, const v1::QueryAuditRequest* request,
                                      v1::QueryAuditResponse* response) {
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  // An app id no record can have ("Demo" for "demo") would read as "no incidents".
  if (!request->app_id().empty() && state_->FindApp(request->app_id()) == nullptr) {
    // An app removed from the configuration keeps its records until retention ends.
    const auto has_records = state_->audit->HasRecordsOfApp(request->app_id());
    if (!has_records.ok()) return ToGrpcStatus(has_records.status());
    if (!*has_records) return ToGrpcStatus(UnknownAppError(*state_, request->app_id()));
  }
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
