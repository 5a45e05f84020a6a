#include "gateway/admin_service.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "gateway/components.h"
#include "google/protobuf/text_format.h"
#include "policies/policy_loader.h"
#include "proto/policy.pb.h"
#include "gateway/call_auth.h"
#include "gateway/request_log.h"
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

// One log line per admin call, whatever its outcome: which key (its label) did what
// (detail, once authenticated: ids, filters, records returned), for an account of who read
// audit content and who reloaded policies. Never keys, never content.
class AdminCallLog {
 public:
  explicit AdminCallLog(const char* rpc) : start_(absl::Now()) { entry_.rpc = rpc; }
  void Caller(const absl::StatusOr<Principal>& principal) {
    if (!principal.ok()) return;
    entry_.app_id = principal->app_id;
    entry_.key_label = principal->key_label;
  }
  void Detail(std::string detail) { entry_.detail = std::move(detail); }
  // Logs the call and returns `status`.
  grpc::Status Done(grpc::Status status) {
    entry_.code = static_cast<absl::StatusCode>(status.error_code());
    entry_.latency = absl::Now() - start_;
    LogRequest(entry_);
    return status;
  }

 private:
  const absl::Time start_;
  RequestLogEntry entry_;
};

// A value from a request for a log line: quoted and C-escaped (neither a space nor a quote
// can forge more pairs), at most 128 bytes of it (longer is cut and marked with its size).
std::string Quoted(const std::string& value) {
  constexpr size_t kMaxBytes = 128;
  if (value.size() <= kMaxBytes) return absl::StrCat("'", absl::CEscape(value), "'");
  const size_t cut = Utf8BoundaryAtOrBefore(value, kMaxBytes);
  return absl::StrCat("'", absl::CEscape(value.substr(0, cut)), "'...(", value.size(), " bytes)");
}

// The filters of an audit query, for its log line.
std::string QueryDetail(const v1::QueryAuditRequest& request) {
  std::string detail;
  if (!request.app_id().empty()) absl::StrAppend(&detail, "app_id=", Quoted(request.app_id()), " ");
  if (request.action() != v1::ACTION_UNSPECIFIED) absl::StrAppend(&detail, "action=", v1::Action_Name(request.action()), " ");
  if (request.category() != v1::CATEGORY_UNSPECIFIED) {
    absl::StrAppend(&detail, "category=", v1::Category_Name(request.category()), " ");
  }
  if (request.from_unix_micros() != 0) absl::StrAppend(&detail, "from=", request.from_unix_micros(), " ");
  if (request.to_unix_micros() != 0) absl::StrAppend(&detail, "to=", request.to_unix_micros(), " ");
  if (!request.request_id().empty()) absl::StrAppend(&detail, "request_id=", Quoted(request.request_id()), " ");
  if (request.has_after_sequence()) absl::StrAppend(&detail, "after_sequence=", request.after_sequence(), " ");
  if (!request.page_token().empty()) absl::StrAppend(&detail, "page_token=set ");
  return detail;
}

}  // namespace

grpc::Status AdminService::ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest*,
                                        v1::ListPoliciesResponse* response) {
  AdminCallLog log("ListPolicies");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
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
  return log.Done(grpc::Status::OK);
}

grpc::Status AdminService::GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                                     v1::GetPolicyResponse* response) {
  AdminCallLog log("GetPolicy");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
  log.Detail(absl::StrCat("id=", Quoted(request->id())));
  if (request->id().empty()) {
    return log.Done(ToGrpcStatus(absl::InvalidArgumentError("id must be set (a policy set id; ListPolicies lists them)")));
  }
  const auto policies = state_->policy_store->Current();
  auto text = policies->GetSetTextProto(request->id());
  if (!text.ok()) return log.Done(ToGrpcStatus(text.status()));
  response->set_policy_version(policies->version());
  response->set_text_proto(*std::move(text));
  return log.Done(grpc::Status::OK);
}

grpc::Status AdminService::ValidatePolicies(grpc::ServerContext* context, const v1::ValidatePoliciesRequest* request,
                                            v1::ValidatePoliciesResponse* response) {
  AdminCallLog log("ValidatePolicies");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
  log.Detail(absl::StrCat("files_sent=", request->files_size()));
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
  return log.Done(grpc::Status::OK);
}

grpc::Status AdminService::ReloadPolicies(grpc::ServerContext* context, const v1::ReloadPoliciesRequest*,
                                          v1::ReloadPoliciesResponse* response) {
  AdminCallLog log("ReloadPolicies");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
  PolicyReload reload = gateway::ReloadPolicies(state_);
  response->set_reloaded(reload.reloaded);
  response->set_old_policy_version(reload.old_version);
  response->set_policy_version(reload.version);
  for (auto& error : reload.errors) *response->add_errors() = std::move(error);
  log.Detail(absl::StrCat("reloaded=", reload.reloaded ? "true" : "false", " old_version=", reload.old_version,
                          " version=", reload.version, " errors=", response->errors_size()));
  return log.Done(grpc::Status::OK);
}

grpc::Status AdminService::QueryAudit(grpc::ServerContext* context, const v1::QueryAuditRequest* request,
                                      v1::QueryAuditResponse* response) {
  AdminCallLog log("QueryAudit");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
  log.Detail(QueryDetail(*request));
  // An app id no record can have ("Demo" for "demo") would read as "no incidents".
  if (!request->app_id().empty() && state_->FindApp(request->app_id()) == nullptr) {
    // An app removed from the configuration keeps its records until retention ends.
    const auto has_records = state_->audit->HasRecordsOfApp(request->app_id());
    if (!has_records.ok()) return log.Done(ToGrpcStatus(has_records.status()));
    if (!*has_records) return log.Done(ToGrpcStatus(UnknownAppError(*state_, request->app_id())));
  }
  auto result = state_->audit->Query(*request);
  if (result.ok()) {
    *response = *std::move(result);
    log.Detail(absl::StrCat(QueryDetail(*request), "records=", response->records_size()));
  }
  return log.Done(ToGrpcStatus(result.status()));
}

grpc::Status AdminService::GetAuditRecord(grpc::ServerContext* context, const v1::GetAuditRecordRequest* request,
                                          v1::AuditRecord* response) {
  AdminCallLog log("GetAuditRecord");
  const auto principal = AuthenticateCall(*context, *state_->authenticator, v1::ADMIN);
  log.Caller(principal);
  if (!principal.ok()) return log.Done(ToGrpcStatus(principal.status()));
  log.Detail(absl::StrCat("request_id=", Quoted(request->request_id())));
  if (request->request_id().empty()) return log.Done(ToGrpcStatus(absl::InvalidArgumentError("request_id must be set")));
  auto result = state_->audit->Get(request->request_id());
  if (result.ok()) *response = *std::move(result);
  return log.Done(ToGrpcStatus(result.status()));
}

}  // namespace warden::gateway
