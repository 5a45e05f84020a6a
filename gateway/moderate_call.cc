#include "gateway/moderate_call.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gateway/decisions.h"
#include "gateway/request_validation.h"

namespace warden::gateway {
namespace {

// The result of the app's checks on ModerateRequest.texts[text_index], as the API reports it.
v1::ModerationResult ToResult(const TextVerdict& verdict, int text_index) {
  v1::ModerationResult result;
  const v1::Decision& decision = verdict.decision;
  result.set_action(decision.action());
  result.set_decided_by(decision.decided_by());
  *result.mutable_categories() = decision.scores();
  *result.mutable_rules() = decision.rules();
  // RuleMatch.text_index names the text a span is in, here as in the audit record.
  for (v1::RuleMatch& rule : *result.mutable_rules()) rule.set_text_index(text_index);
  result.set_redacted_text(verdict.text);
  if (decision.action() != v1::ALLOW) result.set_message(decision.message());
  bool flagged = decision.action() != v1::ALLOW && decision.action() != v1::ACTION_UNSPECIFIED;
  for (const auto& score : decision.scores()) flagged = flagged || score.flagged();
  for (const auto& rule : decision.rules()) flagged = flagged || !rule.shadow();
  if (verdict.policy_verdict.has_value()) {
    *result.mutable_policy_verdict() = *verdict.policy_verdict;
    flagged = flagged || verdict.policy_verdict->violation();
  }
  result.set_flagged(flagged);
  return result;
}

// What the client of a call with `deadline` receives at this point (see RunModerate). The
// time first: gRPC reports a passed deadline as a cancellation too, and the client sees
// DEADLINE_EXCEEDED.
absl::Status CallOutcome(const Deadline& deadline) {
  if (absl::Now() >= deadline.time()) return absl::DeadlineExceededError("the call's deadline passed before it ended");
  if (deadline.cancelled()) return absl::CancelledError("the call was cancelled before it ended");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ModerateResponse> RunModerate(const CallDeps& shared_deps, const v1::App& app,
                                                 const v1::ModerateRequest& request, const Deadline& deadline,
                                                 absl::Status* outcome) {
  std::shared_ptr<const TextChecks> pinned;
  const CallDeps deps = PinChecks(shared_deps, &pinned);
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(ValidateModerateRequest(request, deps.limiter->LimitsOf(app.id())));
  ASSIGN_OR_RETURN(Admission admission, deps.limiter->Admit(app.id(), false, request.ByteSizeLong() / 4));
  const v1::Direction direction = request.direction() == v1::OUTPUT ? v1::OUTPUT : v1::INPUT;

  v1::ModerateResponse response;
  response.set_request_id(NewRequestId());
  response.set_model(deps.checks->classifier_name());
  response.set_policy_version(deps.checks->policy_version());
  v1::Decision total;
  std::string original, redacted;
  // All texts in one call: with a request policy, the LLM judges them together. So the
  // stage's duration is observed once per request, for all its texts.
  const absl::Time check_start = absl::Now();
  const std::vector<std::string> texts(request.texts().begin(), request.texts().end());
  std::vector<absl::StatusOr<TextVerdict>> verdicts =
      deps.checks->CheckMany(app, direction, texts, request.policy(), deadline);
  deps.metrics->Observe("warden_stage_duration_seconds", {{"stage", "moderate_checks"}},
                        absl::ToDoubleSeconds(absl::Now() - check_start));
  // Decided once, for the record and the caller alike: a client that left or whose
  // deadline passed during the checks gets CANCELLED or DEADLINE_EXCEEDED from gRPC
  // whatever the handler returns, so the record must not say OK.
  const absl::Status client_outcome = CallOutcome(deadline);
  if (outcome != nullptr) *outcome = client_outcome;
  // A client that went away before its deadline: checks stopped for that did not fail and
  // decide nothing (not counted; CallControl::ClientLeft).
  const bool client_left = absl::IsCancelled(client_outcome);
  for (int i = 0; i < request.texts_size(); ++i) {
    const std::string& text = texts[i];
    absl::StatusOr<TextVerdict>& verdict = verdicts[i];
    if (!verdict.ok()) {
      const bool count = !(client_left && absl::IsCancelled(verdict.status()));
      const v1::Decision decision = FailedCheckDecision(deps, app, "moderate", verdict.status(), count);
      verdict = TextVerdict{decision, decision.fail_open() ? text : std::string(), std::nullopt};
    } else if (!client_left) {
      CountFailureInsideCheck(deps, "moderate", verdict->decision);
    }
    *response.add_results() = ToResult(*verdict, i);
    MergeDecision(verdict->decision, i, &total);
    absl::StrAppend(&original, i == 0 ? "" : "\n", text);
    absl::StrAppend(&redacted, i == 0 ? "" : "\n", verdict->text);
  }
  if (!client_left) CountDecision(deps, direction, total);
  // Once per request, as for Generate's input and output; also when a stage of the
  // pipeline failed open inside an otherwise successful check.
  if (total.fail_open()) deps.metrics->Increment("warden_fail_open_passes_total", {{"app", app.id()}});

  v1::AuditRecord record;
  record.set_request_id(response.request_id());
  record.set_time_unix_micros(absl::ToUnixMicros(start));
  record.set_app_id(app.id());
  record.set_rpc(v1::MODERATE);
  record.set_model(response.model());
  record.set_policy_version(response.policy_version());
  record.set_classifier(deps.checks->classifier_name());
  *(direction == v1::OUTPUT ? record.mutable_output_decision() : record.mutable_input_decision()) = total;
  record.set_action(total.action());
  record.set_status(absl::StatusCodeToString(client_outcome.code()));
  // Texts checked as output (text an app generated elsewhere) are audited as output.
  const std::string content = RetainedContent(app.retention(), original, redacted);
  if (direction == v1::OUTPUT) {
    record.set_output_content(content);
  } else {
    record.set_input_content(content);
  }
  RETURN_IF_ERROR(CommitAudit(deps, app, start, &record));
  return response;
}

}  // namespace warden::gateway
