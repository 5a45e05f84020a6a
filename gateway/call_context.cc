#include "gateway/call_context.h"

#include <random>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/sha256.h"
#include "gateway/decisions.h"

namespace warden::gateway {

CallDeps PinChecks(const CallDeps& deps, std::shared_ptr<const TextChecks>* pinned) {
  *pinned = deps.checks->ForCall();
  CallDeps call_deps = deps;
  call_deps.checks = pinned->get();
  return call_deps;
}

std::string NewRequestId() {
  static thread_local absl::BitGen generator;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(generator), absl::Uniform<uint64_t>(generator));
}

namespace {
constexpr char kRequestIdPayload[] = "warden.v1/request_id";
}  // namespace

void AttachRequestId(const std::string& request_id, absl::Status* status) {
  if (!status->ok() && !request_id.empty()) status->SetPayload(kRequestIdPayload, absl::Cord(request_id));
}

std::string RequestIdOf(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kRequestIdPayload);
  return payload ? std::string(*payload) : std::string();
}

std::string RetainedContent(v1::ContentRetention retention, const std::string& original, const std::string& redacted) {
  switch (retention) {
    case v1::FULL:
      return original;
    case v1::HASH_ONLY:
      return original.empty() ? std::string() : absl::StrCat("sha256:", Sha256Hex(original));
    case v1::NONE:
      return std::string();
    default:
      return redacted;
  }
}

absl::Status CommitAudit(const CallDeps& deps, const v1::App& app, absl::Time start, v1::AuditRecord* record,
                         AuditWrite write) {
  record->set_latency_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(absl::Now() - start)));
  record->set_retention(app.retention() == v1::CONTENT_RETENTION_UNSPECIFIED ? v1::REDACTED : app.retention());
  const absl::Status status = write == AuditWrite::kReplace ? deps.audit->Replace(*record) : deps.audit->Append(*record);
  if (status.ok()) return status;
  deps.metrics->Increment("warden_audit_failures_total", {});
  if (app.audit_failure() == v1::FAIL_OPEN) {
    deps.metrics->Increment("warden_fail_open_passes_total", {{"app", app.id()}});
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("the audit trail cannot record this request (", status.message(), "); refused (fail closed)"));
}

v1::Decision FailedCheckDecision(const CallDeps& deps, const v1::App& app, const char* stage,
                                 const absl::Status& status, bool count) {
  const bool fail_open = app.check_failure() == v1::FAIL_OPEN;
  if (count) {
    deps.metrics->Increment("warden_check_failures_total",
                            {{"stage", stage}, {"outcome", fail_open ? "fail_open" : "fail_closed"}});
  }
  return CheckFailureDecision(fail_open, std::string(status.message()));
}

void CountFailureInsideCheck(const CallDeps& deps, const char* stage, const v1::Decision& decision) {
  if (decision.decided_by() != v1::FAILURE && !decision.fail_open()) return;
  deps.metrics->Increment("warden_check_failures_total",
                          {{"stage", stage}, {"outcome", decision.fail_open() ? "fail_open" : "fail_closed"}});
}

void CountCall(const CallDeps& deps, const std::string& rpc, const std::string& app_id, absl::StatusCode code,
               absl::Time start) {
  deps.metrics->Increment("warden_requests_total",
                          {{"rpc", rpc}, {"app", app_id}, {"code", absl::StatusCodeToString(code)}});
  deps.metrics->Observe("warden_request_duration_seconds", {{"rpc", rpc}}, absl::ToDoubleSeconds(absl::Now() - start));
}

void CountDecision(const CallDeps& deps, v1::Direction direction, const v1::Decision& decision) {
  const std::string dir = direction == v1::OUTPUT ? "output" : "input";
  deps.metrics->Increment("warden_decisions_total", {{"direction", dir}, {"action", v1::Action_Name(decision.action())}});
  for (const auto& score : decision.scores()) {
    if (score.flagged()) {
      deps.metrics->Increment("warden_flagged_categories_total",
                              {{"direction", dir}, {"category", v1::Category_Name(score.category())}});
    }
  }
  for (const auto& rule : decision.rules()) deps.metrics->Increment("warden_rule_hits_total", {{"rule", rule.rule_id()}});
}

}  // namespace warden::gateway
