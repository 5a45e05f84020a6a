#include "gateway/generate_call.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "gateway/decisions.h"
#include "gateway/event_queue.h"
#include "gateway/request_validation.h"

namespace warden::gateway {
namespace {

// Hold-back queue watermarks (bytes of model text waiting for the output checks).
constexpr size_t kHighWatermark = 16 * 1024;
constexpr size_t kLowWatermark = 4 * 1024;
// When generation ends, the handler's thread (the queue's consumer) flushes the text kept
// back for stop sequences into the queue it is not draining at that moment; a flush at or
// above the high watermark would wait for itself (EventQueue::Push).
static_assert(kMaxStopSequenceBytes < kHighWatermark, "the final stop-sequence flush must not fill the queue");

// AuditRecord.status of a stream's record until the stream ends.
constexpr char kInProgressStatus[] = "IN_PROGRESS";

constexpr int kInstructionsIndex = -1;
constexpr int kAnalysisIndex = -2;
constexpr int kToolCallIndex = -3;
constexpr int kNamesIndex = -4;  // Input: the tool names and the history's function names, one per line.
constexpr int kToolIndexBase = -100;  // Input: GenerateRequest.tools[i].description is -100 - i.
constexpr int kToolSchemaIndexBase = -1000;  // Input: the text of tools[i].parameters_json_schema is -1000 - i.

// A tool call for the audit record: as the model wrote it, and as released (empty when
// blocked: its arguments, and its header when that was what the policy refused).
// `model_header`: the recipient or content type is model text the request did not supply
// (UncheckedHeaderText), kept per the retention like the arguments.
struct AuditedToolCall {
  v1::ToolCall original;
  v1::ToolCall released;
  bool model_header = false;
};

// The state of one call, threaded through the steps below.
struct Call {
  const CallDeps& deps;
  const v1::App& app;
  const v1::GenerateRequest& request;
  const CallControl& control;
  const ChunkWriter* writer;
  uint32_t estimated_tokens = 0;  // taken from the app's tokens-per-minute at admission
  absl::Time start = absl::Now();
  v1::GenerateResponse response;
  v1::AuditRecord record;
  std::string input_original;  // For the audit record, per the retention mode.
  std::string input_redacted;
  std::string output_original;
  std::string output_redacted;
  std::string analysis_original;
  std::string analysis_redacted;  // As checked; empty when its check failed closed.
  std::vector<AuditedToolCall> tool_calls;
};

// Input checks on every text the app sent; fills the input decision and the model input.
// A text whose check failed is forwarded only when the app fails open; the audit's
// redacted input then holds it (nothing was checked to redact), and nothing otherwise.
absl::Status CheckInput(Call& call, GenerationInput* input) {
  v1::Decision total;
  total.set_action(v1::ALLOW);
  // `structure` names a field whose text cannot be rewritten: a finding that would redact
  // it blocks the request instead (with a message naming the field), FLAG stays FLAG.
  auto check = [&](const std::string& text, int index, std::string* forwarded,
                   const std::string& structure = "") -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    const auto verdict = call.deps.checks->Check(call.app, v1::INPUT, text, {}, call.control.AsDeadline());
    v1::Decision decision;
    if (verdict.ok()) {
      decision = verdict->decision;
      *forwarded = verdict->text;
      if (!call.control.ClientLeft()) CountFailureInsideCheck(call.deps, "input", decision);
    } else {
      // Counted unless it stopped because the client left (a real failure is counted even
      // when the client has gone meanwhile).
      const bool count = !(absl::IsCancelled(verdict.status()) && call.control.ClientLeft());
      decision = FailedCheckDecision(call.deps, call.app, "input", verdict.status(), count);
      // Fail closed blocks the request: the unchecked text is neither forwarded nor kept
      // as "redacted" content in the audit record.
      *forwarded = decision.fail_open() ? text : std::string();
    }
    if (!structure.empty() && (decision.action() == v1::REDACT || decision.action() == v1::BLOCK)) {
      decision.set_action(v1::BLOCK);
      if (decision.decided_by() != v1::FAILURE) {  // A failed check keeps its own message.
        decision.set_message(structure + " holds text the input policy does not allow");
      }
    }
    MergeDecision(decision, index, &total);
    absl::StrAppend(&call.input_original, call.input_original.empty() ? "" : "\n", text);
    absl::StrAppend(&call.input_redacted, call.input_redacted.empty() ? "" : "\n", *forwarded);
    return absl::OkStatus();
  };
  input->instructions = call.request.instructions();
  RETURN_IF_ERROR(check(call.request.instructions(), kInstructionsIndex, &input->instructions));
  // Every message, the assistant's too: the app sends the history, so an earlier "assistant"
  // turn is text the app wrote (a forged one can steer the model), not checked output.
  for (int i = 0; i < call.request.messages_size(); ++i) {
    v1::Message message = call.request.messages(i);
    RETURN_IF_ERROR(check(call.request.messages(i).content(), i, message.mutable_content()));
    input->messages.push_back(std::move(message));
  }
  // Tool descriptions are prose the model reads in the developer message, like the
  // instructions. Parameter schemas are structure, but their text (property names,
  // descriptions, titles, examples, enum values, defaults) is written into the same
  // message: it is checked as one text per schema (ToolSchemaText), and never rewritten.
  for (size_t i = 0; i < input->tools.size(); ++i) {
    const v1::FunctionTool& tool = call.request.tools(static_cast<int>(i));
    RETURN_IF_ERROR(check(tool.description(), kToolIndexBase - static_cast<int>(i),
                          input->tools[i].mutable_description()));
    std::string checked_schema_text;  // For the audit record only.
    RETURN_IF_ERROR(check(ToolSchemaText(tool.parameters_json_schema()), kToolSchemaIndexBase - static_cast<int>(i),
                          &checked_schema_text, absl::StrCat("tools[", i, "].parameters_json_schema")));
  }
  // Names are prompt text too (`type <name> = ...`, `functions.<name>` in headers), of a
  // restricted alphabet but room enough for a card number or a block-listed word.
  std::string names;
  for (const v1::FunctionTool& tool : call.request.tools()) absl::StrAppend(&names, tool.name(), "\n");
  for (const v1::Message& message : call.request.messages()) {
    if (!message.name().empty()) absl::StrAppend(&names, message.name(), "\n");
    if (!message.recipient().empty()) absl::StrAppend(&names, message.recipient(), "\n");
  }
  std::string checked_names;  // For the audit record only.
  RETURN_IF_ERROR(check(names, kNamesIndex, &checked_names, "a tool or function name"));
  if (total.fail_open()) call.deps.metrics->Increment("warden_fail_open_passes_total", {{"app", call.app.id()}});
  *call.response.mutable_input_decision() = std::move(total);
  return absl::OkStatus();
}

// Consumes model events: final text through the stream checks (released text goes to the
// client), analysis and tool calls collected and checked whole.
class OutputHandler {
 public:
  OutputHandler(Call& call, std::unique_ptr<StreamChecks> final_checks, bool return_analysis)
      : call_(call), final_checks_(std::move(final_checks)), return_analysis_(return_analysis) {}

  // Returns false when the output is blocked or the client is gone: generation must stop.
  bool Handle(const GenerationEvent& event) {
    if (blocked_ || client_gone_) return false;
    if (event.kind == GenerationEvent::Kind::kMessageEnd) return EndMessage(event);
    if (!event.recipient.empty()) {
      tool_text_ += event.text;
      return true;
    }
    if (event.channel == v1::FINAL) {
      raw_final_ += event.text;
      return Release(final_checks_->Push(event.text));
    }
    analysis_ += event.text;  // Analysis, and commentary without a recipient (preambles).
    return true;
  }

  // The model finished: final verdict, held tail, analysis verdict.
  void Finish() {
    if (!blocked_ && !client_gone_) Release(final_checks_->Finish());
    MergeDecision(final_checks_->decision(), 0, &decision_);
    if (!analysis_.empty()) CheckAnalysis();
    // A blocked response carries no model text: the analysis is checked and audited, not
    // returned beside an answer (or tool call) the policies stopped.
    if (blocked_) analysis_released_.clear();
  }

  // The model failed mid-way: nothing more is released; the decision keeps what the
  // checks found in the output so far (for the audit record).
  void Abandon() { MergeDecision(final_checks_->decision(), 0, &decision_); }

  // Copies what the audit record keeps of the output into `call` (per retention there).
  void KeepForAudit(Call& call) const {
    call.output_redacted = released_;
    call.output_original = raw_final_;
    call.analysis_original = analysis_;
    call.analysis_redacted = analysis_checked_;
    call.tool_calls = audited_calls_;
  }

  bool blocked() const { return blocked_; }
  bool client_gone() const { return client_gone_; }
  const v1::Decision& decision() const { return decision_; }
  const std::string& released() const { return released_; }
  const std::string& analysis_released() const { return analysis_released_; }
  std::vector<v1::ToolCall>& tool_calls() { return tool_calls_; }

 private:
  v1::Decision CheckFailed(const absl::Status& status) {
    return FailedCheckDecision(call_.deps, call_.app, "output", status);
  }

  bool Release(const absl::StatusOr<StreamStep>& step) {
    if (!step.ok()) {
      // The output checks failed: nothing more is released unless the app fails open.
      const v1::Decision decision = CheckFailed(step.status());
      MergeDecision(decision, 0, &decision_);
      blocked_ = decision.action() == v1::BLOCK;
      return !blocked_;
    }
    if (!step->released.empty()) {
      released_ += step->released;
      if (call_.writer != nullptr) {
        v1::GenerateChunk chunk;
        chunk.mutable_delta()->set_channel(v1::FINAL);
        chunk.mutable_delta()->set_text(step->released);
        if (!(*call_.writer)(chunk)) client_gone_ = true;
      }
    }
    if (step->blocked) blocked_ = true;
    return !blocked_ && !client_gone_;
  }

  // The header text of a tool call that the request did not supply: a recipient other than
  // a declared function (whose name was input-checked) and a content type other than json
  // or code. Empty when there is none.
  std::string UncheckedHeaderText(const GenerationEvent& event) const {
    std::string text;
    bool declared = false;
    for (const v1::FunctionTool& tool : call_.request.tools()) {
      declared = declared || event.recipient == "functions." + tool.name();
    }
    if (!declared) text = event.recipient;
    if (!event.content_type.empty() && event.content_type != "json" && event.content_type != "code") {
      absl::StrAppend(&text, text.empty() ? "" : "\n", event.content_type);
    }
    return text;
  }

  // Checks header text the model chose (UncheckedHeaderText). It is not rewritten: a
  // finding that would redact blocks. Returns false when the call is blocked.
  bool CheckToolCallHeader(const GenerationEvent& event) {
    const std::string header = UncheckedHeaderText(event);
    if (header.empty()) return true;
    const auto verdict = call_.deps.checks->Check(call_.app, v1::OUTPUT, header, {}, call_.control.AsDeadline());
    v1::Decision decision = verdict.ok() ? verdict->decision : CheckFailed(verdict.status());
    if (decision.action() == v1::REDACT || decision.action() == v1::BLOCK) {
      if (decision.decided_by() != v1::FAILURE) {
        decision.set_message("the tool call's recipient or content type holds text the output policy does not allow");
      }
      decision.set_action(v1::BLOCK);
    }
    MergeDecision(decision, kToolCallIndex, &decision_);
    if (decision.action() != v1::BLOCK) return true;
    AuditedToolCall withheld;  // Nothing of it released.
    withheld.original.set_recipient(event.recipient);
    withheld.original.set_content_type(event.content_type);
    withheld.original.set_arguments(tool_text_);
    withheld.model_header = true;
    audited_calls_.push_back(std::move(withheld));
    tool_text_.clear();
    blocked_ = true;
    return false;
  }

  bool EndMessage(const GenerationEvent& event) {
    if (event.recipient.empty()) return true;
    if (!CheckToolCallHeader(event)) return false;
    // A tool call: checked whole before it is returned.
    v1::ToolCall call;
    call.set_recipient(event.recipient);
    call.set_content_type(event.content_type);
    const auto verdict = call_.deps.checks->Check(call_.app, v1::OUTPUT, tool_text_, {}, call_.control.AsDeadline());
    const v1::Decision decision = verdict.ok() ? verdict->decision : CheckFailed(verdict.status());
    AuditedToolCall audited;
    audited.original = call;
    audited.original.set_arguments(tool_text_);
    audited.model_header = !UncheckedHeaderText(event).empty();
    call.set_arguments(verdict.ok() ? verdict->text : tool_text_);
    audited.released = call;  // Its header passed its check; its arguments only if not blocked.
    if (decision.action() == v1::BLOCK) audited.released.clear_arguments();
    audited_calls_.push_back(std::move(audited));
    tool_text_.clear();
    MergeDecision(decision, kToolCallIndex, &decision_);
    if (decision.action() == v1::BLOCK) {
      blocked_ = true;
      return false;
    }
    if (call_.writer != nullptr) {
      v1::GenerateChunk chunk;
      *chunk.mutable_tool_call() = call;
      if (!(*call_.writer)(chunk)) client_gone_ = true;
    }
    tool_calls_.push_back(std::move(call));
    return !client_gone_;
  }

  void CheckAnalysis() {
    const auto verdict = call_.deps.checks->Check(call_.app, v1::OUTPUT, analysis_, {}, call_.control.AsDeadline());
    if (!verdict.ok()) {
      // Recorded; the analysis is returned unchecked only when the app fails open, and its
      // failed check never blocks the final answer (FLAG: hidden text cannot leak).
      v1::Decision decision = CheckFailed(verdict.status());
      if (decision.fail_open()) analysis_checked_ = analysis_;  // Passed unchecked.
      if (return_analysis_ && decision.fail_open()) analysis_released_ = analysis_;
      if (decision.action() == v1::BLOCK) {
        decision.set_action(v1::FLAG);
        decision.set_message("the analysis could not be checked (" + std::string(verdict.status().message()) +
                             "); it was withheld");
      }
      MergeDecision(decision, kAnalysisIndex, &decision_);
      return;
    }
    analysis_checked_ = verdict->text;
    v1::Decision decision = verdict->decision;
    if (!return_analysis_ && decision.action() != v1::ALLOW) {
      // Not shown to the app: findings are recorded, nothing is enforced.
      decision.set_action(v1::FLAG);
      decision.clear_message();
    }
    if (return_analysis_ && decision.action() != v1::BLOCK) analysis_released_ = verdict->text;
    MergeDecision(decision, kAnalysisIndex, &decision_);
  }

  Call& call_;
  std::unique_ptr<StreamChecks> final_checks_;
  const bool return_analysis_;
  v1::Decision decision_;
  std::string released_;
  std::string raw_final_;
  std::string analysis_;
  std::string analysis_released_;
  std::string analysis_checked_;  // For the audit record: the analysis as its check left it.
  std::string tool_text_;
  std::vector<v1::ToolCall> tool_calls_;
  std::vector<AuditedToolCall> audited_calls_;  // Every tool call, as written and as released.
  bool blocked_ = false;
  bool client_gone_ = false;
};

absl::Status RunModel(Call& call, GenerationInput input) {
  const bool return_analysis = call.request.return_analysis() && call.app.allow_analysis();
  // A unary call returns its output whole, so it is checked whole: no hold-back bound on a
  // match, as for its input.
  const OutputDelivery delivery = call.writer == nullptr ? OutputDelivery::kWhole : OutputDelivery::kStreamed;
  ASSIGN_OR_RETURN(auto final_checks, call.deps.checks->StartOutputStream(call.app, delivery, call.control.AsDeadline()));
  OutputHandler handler(call, std::move(final_checks), return_analysis);
  EventQueue queue(kHighWatermark, kLowWatermark);
  std::unique_ptr<GenerationJob> job =
      call.deps.runner->Start(std::move(input), [&queue](const GenerationEvent& event) { return queue.Push(event); });
  bool stopped = false;
  bool first = true;
  for (;;) {
    if (!stopped && call.control.cancelled()) {
      stopped = true;
      queue.Cancel();
      job->Cancel();  // Also stops a prefill, which has no event to refuse.
    }
    auto event = queue.Pop(absl::Milliseconds(20));
    if (event.has_value()) {
      if (first) {
        call.deps.metrics->Observe("warden_time_to_first_token_seconds", {}, absl::ToDoubleSeconds(absl::Now() - call.start));
        first = false;
      }
      if (!stopped && !handler.Handle(*event)) {
        stopped = true;
        queue.Cancel();
        job->Cancel();
      }
      continue;
    }
    if (job->Done()) {
      event = queue.Pop(absl::ZeroDuration());  // Events pushed just before Done().
      if (!event.has_value()) break;
      if (!stopped && !handler.Handle(*event)) stopped = true;
      continue;
    }
  }
  call.deps.metrics->Observe("warden_holdback_wait_seconds", {}, absl::ToDoubleSeconds(queue.paused()));
  const absl::StatusOr<GenerationSummary> summary = job->Wait();
  if (!summary.ok() && !stopped) {
    // The record keeps the output checked, and what was released, before the failure.
    handler.Abandon();
    *call.response.mutable_output_decision() = handler.decision();
    handler.KeepForAudit(call);
    return summary.status();
  }
  handler.Finish();
  if (handler.decision().fail_open()) {
    call.deps.metrics->Increment("warden_fail_open_passes_total", {{"app", call.app.id()}});
  }

  v1::GenerateResponse& response = call.response;
  *response.mutable_output_decision() = handler.decision();
  if (summary.ok() && !summary->format_error.empty()) {
    call.deps.metrics->Increment("warden_model_format_errors_total", {});
    response.set_model_format_error(summary->format_error);
  }
  if (summary.ok() && summary->preemptions > 0) {
    call.deps.metrics->Increment("warden_kv_preemptions_total", {}, summary->preemptions);
  }
  if (summary.ok()) {
    response.mutable_usage()->set_prompt_tokens(summary->prompt_tokens);
    response.mutable_usage()->set_completion_tokens(summary->completion_tokens);
    response.mutable_usage()->set_cached_prompt_tokens(summary->cached_prompt_tokens);
    response.set_finish_reason(summary->finish_reason);
  }
  // A check that failed because the client went away (its LLM stage stops then) blocked
  // nothing the client will see: the call was cancelled.
  const bool cancelled = handler.client_gone() || call.control.cancelled();
  if (handler.blocked() && !(cancelled && handler.decision().decided_by() == v1::FAILURE)) {
    response.set_finish_reason(v1::BLOCKED);
  } else if (cancelled) {
    response.set_finish_reason(v1::CANCELLED);
  }
  if (call.writer == nullptr) {
    response.set_text(handler.released());
    response.set_analysis(handler.analysis_released());
    for (auto& tool_call : handler.tool_calls()) *response.add_tool_calls() = std::move(tool_call);
  } else if (!handler.analysis_released().empty()) {
    v1::GenerateChunk chunk;
    chunk.mutable_delta()->set_channel(v1::ANALYSIS);
    chunk.mutable_delta()->set_text(handler.analysis_released());
    (*call.writer)(chunk);
  }
  // REDACTED retention keeps only what was released (already redacted); FULL keeps what
  // the model wrote, blocked text included, so trust & safety can audit it.
  handler.KeepForAudit(call);
  call.deps.limiter->SettleTokens(call.app.id(), call.estimated_tokens,
                                  uint64_t{response.usage().prompt_tokens()} + response.usage().completion_tokens());
  return absl::OkStatus();
}

void FillRecord(Call& call) {
  v1::AuditRecord& record = call.record;
  const v1::GenerateResponse& response = call.response;
  record.set_request_id(response.request_id());
  record.set_time_unix_micros(absl::ToUnixMicros(call.start));
  record.set_app_id(call.app.id());
  record.set_rpc(call.writer == nullptr ? v1::GENERATE : v1::STREAM_GENERATE);
  record.set_model(response.model());
  record.set_policy_version(response.policy_version());
  record.set_classifier(call.deps.checks->classifier_name());
  *record.mutable_input_decision() = response.input_decision();
  *record.mutable_output_decision() = response.output_decision();
  record.set_action(std::max(response.input_decision().action(), response.output_decision().action()));
  *record.mutable_usage() = response.usage();
  record.set_finish_reason(response.finish_reason());
  *record.mutable_metadata() = call.request.metadata();
  record.set_status(absl::StatusCodeToString(ClientOutcome(response.finish_reason(), call.control).code()));
  const auto retention = call.app.retention();
  record.set_input_content(RetainedContent(retention, call.input_original, call.input_redacted));
  record.set_output_content(RetainedContent(retention, call.output_original, call.output_redacted));
  record.set_analysis_content(RetainedContent(retention, call.analysis_original, call.analysis_redacted));
  record.clear_tool_calls();  // A stream's record is filled twice (OpenStreamRecord).
  if (retention == v1::NONE) return;
  for (const AuditedToolCall& audited : call.tool_calls) {
    v1::ToolCall* kept = record.add_tool_calls();
    *kept = audited.original;
    kept->set_arguments(RetainedContent(retention, audited.original.arguments(), audited.released.arguments()));
    // A declared function's name is the app's own; a header the model chose is its text.
    if (audited.model_header) {
      kept->set_recipient(RetainedContent(retention, audited.original.recipient(), audited.released.recipient()));
      kept->set_content_type(
          RetainedContent(retention, audited.original.content_type(), audited.released.content_type()));
    }
  }
}

// A stream sends checked text before it ends, so its record is written before the first
// output, with status kInProgressStatus, and replaced when the call ends: an audit store
// that cannot write refuses the stream before anything is sent (fail closed), and a stream
// the server never finished (killed mid-way) still leaves its record.
absl::Status OpenStreamRecord(Call& call) {
  FillRecord(call);
  call.record.set_status(kInProgressStatus);
  return CommitAudit(call.deps, call.app, call.start, &call.record);
}

}  // namespace

absl::Status ClientOutcome(v1::FinishReason finish_reason, const CallControl& control) {
  if (finish_reason != v1::CANCELLED && !control.cancelled()) return absl::OkStatus();
  if (absl::Now() >= control.deadline) return absl::DeadlineExceededError("the call's deadline passed before it ended");
  return absl::CancelledError("the call was cancelled before it ended");
}

absl::StatusOr<v1::GenerateResponse> RunGenerate(const CallDeps& shared_deps, const v1::App& app,
                                                 const v1::GenerateRequest& request, const CallControl& control,
                                                 const ChunkWriter* writer) {
  std::shared_ptr<const TextChecks> pinned;
  const CallDeps deps = PinChecks(shared_deps, &pinned);
  Call call{deps, app, request, control, writer, 0, absl::Now(), {}, {}, {}, {}, {}, {}, {}, {}, {}};
  const v1::Limits& limits = deps.limiter->LimitsOf(app.id());
  RETURN_IF_ERROR(ValidateGenerateRequest(request, limits));
  if (deps.runner == nullptr) return absl::UnavailableError("no model is loaded");

  GenerationInput input;
  input.tools.assign(request.tools().begin(), request.tools().end());
  input.reasoning_effort =
      request.reasoning_effort() == v1::REASONING_EFFORT_UNSPECIFIED ? v1::MEDIUM : request.reasoning_effort();
  input.sampling = request.sampling();
  const uint32_t max_tokens = request.sampling().max_output_tokens() == 0
                                  ? limits.max_output_tokens()
                                  : std::min(request.sampling().max_output_tokens(), limits.max_output_tokens());
  input.sampling.set_max_output_tokens(max_tokens);

  // Estimated (bytes / 4 for the prompt, the whole output allowance); settled against the
  // real token counts when the model has finished.
  call.estimated_tokens = max_tokens + static_cast<uint32_t>(request.ByteSizeLong() / 4);
  ASSIGN_OR_RETURN(Admission admission, deps.limiter->Admit(app.id(), writer != nullptr, call.estimated_tokens));
  call.response.set_request_id(NewRequestId());
  call.response.set_policy_version(deps.checks->policy_version());
  call.response.set_model(deps.runner->model_name());

  const absl::Status status = [&]() -> absl::Status {
    const absl::Time checks_start = absl::Now();
    RETURN_IF_ERROR(CheckInput(call, &input));
    deps.metrics->Observe("warden_stage_duration_seconds", {{"stage", "input_checks"}},
                          absl::ToDoubleSeconds(absl::Now() - checks_start));
    if (!call.control.ClientLeft()) CountDecision(deps, v1::INPUT, call.response.input_decision());
    if (call.response.input_decision().action() == v1::BLOCK) {
      // The model never sees the request. (A check that failed because the client went
      // away, see RunModel, means the call was cancelled.)
      const bool gone = call.control.cancelled() && call.response.input_decision().decided_by() == v1::FAILURE;
      call.response.set_finish_reason(gone ? v1::CANCELLED : v1::BLOCKED);
      deps.limiter->SettleTokens(app.id(), call.estimated_tokens, call.estimated_tokens - max_tokens);  // No output.
      return absl::OkStatus();
    }
    if (writer != nullptr) RETURN_IF_ERROR(OpenStreamRecord(call));
    RETURN_IF_ERROR(RunModel(call, std::move(input)));
    CountDecision(deps, v1::OUTPUT, call.response.output_decision());
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    // A call that failed (the model refused the prompt, the audit store refused a stream,
    // the model failed mid-way) gives back its output allowance but keeps its prompt
    // estimate charged, as a blocked call does: its input checks ran on the whole request,
    // so tokens_per_minute must still bound that work.
    const uint64_t reported =
        uint64_t{call.response.usage().prompt_tokens()} + call.response.usage().completion_tokens();
    deps.limiter->SettleTokens(app.id(), call.estimated_tokens,
                               std::max<uint64_t>(reported, call.estimated_tokens - max_tokens));
  }
  deps.metrics->Increment("warden_tokens_total", {{"app", app.id()}, {"kind", "prompt"}},
                          call.response.usage().prompt_tokens());
  deps.metrics->Increment("warden_tokens_total", {{"app", app.id()}, {"kind", "completion"}},
                          call.response.usage().completion_tokens());
  FillRecord(call);
  const AuditWrite write = writer != nullptr ? AuditWrite::kReplace : AuditWrite::kAppend;
  if (!status.ok()) {
    // The failed request is recorded too; the client gets the original error, naming the
    // record when it was written.
    call.record.set_status(absl::StatusCodeToString(status.code()));
    absl::Status failed = status;
    if (CommitAudit(deps, app, call.start, &call.record, write).ok()) AttachRequestId(call.record.request_id(), &failed);
    return failed;
  }
  RETURN_IF_ERROR(CommitAudit(deps, app, call.start, &call.record, write));
  return std::move(call.response);
}

}  // namespace warden::gateway
