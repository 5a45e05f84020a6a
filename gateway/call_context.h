// What every call handler shares: the components it uses (not owned) and helpers to
// finish a call (audit record, metrics).
#ifndef WARDEN_GATEWAY_CALL_CONTEXT_H_
#define WARDEN_GATEWAY_CALL_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/deadline.h"
#include "gateway/audit_store.h"
#include "gateway/limits.h"
#include "gateway/metrics.h"
#include "gateway/model_runner.h"
#include "gateway/text_checks.h"
#include "proto/config.pb.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// Components shared by all calls. All pointers are non-null except `runner` (no model
// loaded) and outlive every call.
struct CallDeps {
  const TextChecks* checks = nullptr;
  ModelRunner* runner = nullptr;
  AuditStore* audit = nullptr;
  Limiter* limiter = nullptr;
  Metrics* metrics = nullptr;
};

// Per-call control from the transport: cancellation (client gone or deadline passed) and
// the client's deadline (for work that must stop by then, e.g. the LLM classifier).
struct CallControl {
  std::function<bool()> cancelled = [] { return false; };
  absl::Time deadline = absl::InfiniteFuture();

  // Both, for work that must stop at the deadline or when the client goes away.
  Deadline AsDeadline() const { return Deadline(deadline, cancelled); }
  // The client went away before its deadline: checks that stopped for that did not fail,
  // and their forced decisions decide nothing (neither is counted in the metrics).
  bool ClientLeft() const { return cancelled() && absl::Now() < deadline; }
};

// `deps` with its checks pinned for one call (TextChecks::ForCall: one policy snapshot for
// every text of the call, the one its record names); `pinned` keeps them alive for the call.
CallDeps PinChecks(const CallDeps& deps, std::shared_ptr<const TextChecks>* pinned);

// A fresh random request id (32 hex characters).
std::string NewRequestId();

// A failed call that was audited carries its record's request id on its status (a
// payload), so the client (trailing metadata `warden-request-id`) and the request log can
// name the record. RequestIdOf is "" for a status without one.
void AttachRequestId(const std::string& request_id, absl::Status* status);
std::string RequestIdOf(const absl::Status& status);

// The content of a record according to the app's retention mode. `redacted` is the text
// with every REDACT/BLOCK finding replaced; `original` is the raw text.
std::string RetainedContent(v1::ContentRetention retention, const std::string& original, const std::string& redacted);

// How CommitAudit writes: a new record, or in place of the one with the record's request
// id (or new when there is none).
enum class AuditWrite { kAppend, kReplace };

// Commits `record` (its latency filled in from `start`). When the store cannot write,
// returns UNAVAILABLE unless the app's audit_failure is FAIL_OPEN (then counted and OK).
absl::Status CommitAudit(const CallDeps& deps, const v1::App& app, absl::Time start, v1::AuditRecord* record,
                         AuditWrite write = AuditWrite::kAppend);

// The decision for a check that could not run, counted in warden_check_failures_total
// under `stage` unless `count` is false (the client left): BLOCK (fail closed), or ALLOW
// with fail_open when the app fails open.
v1::Decision FailedCheckDecision(const CallDeps& deps, const v1::App& app, const char* stage,
                                 const absl::Status& status, bool count = true);

// Counts, in warden_check_failures_total, a stage that could not run inside a check that
// returned a decision (the pipeline's LLM stage timing out, the policy judge giving no
// label): the decision was made by FAILURE or passed because the app fails open.
void CountFailureInsideCheck(const CallDeps& deps, const char* stage, const v1::Decision& decision);

// Counts a finished call in the metrics.
void CountCall(const CallDeps& deps, const std::string& rpc, const std::string& app_id, absl::StatusCode code,
               absl::Time start);
// Counts a decision (action, flagged categories, rules) in the metrics.
void CountDecision(const CallDeps& deps, v1::Direction direction, const v1::Decision& decision);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_CALL_CONTEXT_H_
