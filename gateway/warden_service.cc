#include "gateway/warden_service.h"

#include <algorithm>

#include <atomic>
#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "gateway/call_auth.h"
#include "gateway/generate_call.h"
#include "gateway/moderate_call.h"
#include "gateway/request_log.h"
#include "gateway/status_mapping.h"

namespace warden::gateway {

WardenService::Caller WardenService::FindCaller(const ServerState& state, const grpc::ServerContext& context,
                                                absl::Status* status) {
  const auto principal = AuthenticateCall(context, *state.authenticator, v1::APP);
  if (!principal.ok()) {
    *status = principal.status();
    return {};
  }
  const v1::App* app = state.FindApp(principal->app_id);
  if (app == nullptr) *status = absl::PermissionDeniedError("the key's app is not configured");
  return {app, principal->key_label};
}

namespace {

// The client's deadline (none: the infinite future).
absl::Time CallDeadline(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// A failed call whose audit record was written names it to the client (call_context.h).
void AddRequestIdTrailer(const absl::Status& status, grpc::ServerContext* context) {
  const std::string request_id = RequestIdOf(status);
  if (!request_id.empty()) context->AddTrailingMetadata("warden-request-id", request_id);
}

CallControl ControlOf(grpc::ServerContext* context) {
  CallControl control;
  control.cancelled = [context] { return context->IsCancelled(); };
  control.deadline = CallDeadline(*context);
  return control;
}

}  // namespace

grpc::Status WardenService::Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                                     v1::GenerateResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status;
  const Caller caller = FindCaller(*state_, *context, &status);
  const v1::App* app = caller.app;
  if (app != nullptr) {
    const CallControl control = ControlOf(context);
    auto result = RunGenerate(state_->deps(), *app, *request, control, nullptr);
    status = result.status();
    if (result.ok()) {
      *response = *std::move(result);
      // Counted and logged as the client sees it (its audit record says the same).
      const absl::Status outcome = ClientOutcome(response->finish_reason(), control);
      Finish("Generate", caller, outcome, start, response);
      return grpc::Status::OK;
    }
  }
  Finish("Generate", caller, status, start, nullptr);
  AddRequestIdTrailer(status, context);
  return ToGrpcStatus(status);
}

grpc::Status WardenService::StreamGenerate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                                           grpc::ServerWriter<v1::GenerateChunk>* writer) {
  const absl::Time start = absl::Now();
  absl::Status status;
  const Caller caller = FindCaller(*state_, *context, &status);
  const v1::App* app = caller.app;
  if (app != nullptr) {
    // Each write is watched: one that waits too long for a client that stopped reading
    // cancels the call, so Write returns false and the call ends as if the client had left
    // (CANCELLED, generation stopped and its model slot freed, audited).
    std::atomic<bool> stalled{false};
    const ChunkWriter write = [this, context, writer, &stalled](const v1::GenerateChunk& chunk) {
      const WriteWatchdog::Scope watch(write_watchdog_, [context, &stalled] {
        stalled = true;
        context->TryCancel();
      });
      return writer->Write(chunk);
    };
    const CallControl control = ControlOf(context);
    auto summary = RunGenerate(state_->deps(), *app, *request, control, &write);
    status = summary.status();
    if (summary.ok()) {
      v1::GenerateChunk last;
      *last.mutable_summary() = *std::move(summary);
      const bool stalled_before_summary = stalled;
      write(last);
      if (stalled) {
        // The server cancelled the call (grpc: the handler must then return CANCELLED).
        CountWriteStall(*app, last.summary().request_id());
        status = absl::CancelledError("the client stopped reading: a write waited past stream_write_timeout_seconds");
        // The summary's own write stalled after the record was committed as the call's
        // ending: the record says what the client got instead.
        if (!stalled_before_summary) RecordClientStatus(last.summary().request_id(), status);
      }
      const absl::Status outcome =
          status.ok() ? ClientOutcome(last.summary().finish_reason(), control) : status;
      Finish("StreamGenerate", caller, outcome, start, &last.summary());
      return ToGrpcStatus(status);
    }
    if (stalled) CountWriteStall(*app, "");
  }
  Finish("StreamGenerate", caller, status, start, nullptr);
  AddRequestIdTrailer(status, context);
  return ToGrpcStatus(status);
}

grpc::Status WardenService::Moderate(grpc::ServerContext* context, const v1::ModerateRequest* request,
                                     v1::ModerateResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status;
  const Caller caller = FindCaller(*state_, *context, &status);
  const v1::App* app = caller.app;
  // Counted and logged as the client sees it (its audit record says the same): a call
  // whose client left or whose deadline passed during the checks is not OK.
  absl::Status outcome;
  if (app != nullptr) {
    auto result = RunModerate(state_->deps(), *app, *request, ControlOf(context).AsDeadline(), &outcome);
    status = result.status();
    if (result.ok()) *response = *std::move(result);
  }
  RequestLogEntry entry{"Moderate", app ? app->id() : "", status.ok() ? response->request_id() : "",
                        status.ok() ? outcome.code() : status.code()};
  entry.key_label = caller.key_label;
  if (status.ok()) {  // The strictest action over the texts, in the direction they were checked.
    v1::Action action = v1::ALLOW;
    for (const auto& result : response->results()) action = std::max(action, result.action());
    (request->direction() == v1::OUTPUT ? entry.output_action : entry.input_action) = action;
  }
  Finish(entry, start);
  return ToGrpcStatus(status);
}

void WardenService::Finish(const char* rpc, const Caller& caller, const absl::Status& status, absl::Time start,
                           const v1::GenerateResponse* response) const {
  RequestLogEntry entry{rpc, caller.app ? caller.app->id() : "", response ? response->request_id() : RequestIdOf(status),
                        status.code()};
  entry.key_label = caller.key_label;
  if (response != nullptr) {
    entry.input_action = response->input_decision().action();
    entry.output_action = response->output_decision().action();
  }
  Finish(entry, start);
}

void WardenService::RecordClientStatus(const std::string& request_id, const absl::Status& status) const {
  absl::StatusOr<v1::AuditRecord> record = state_->audit->Get(request_id);
  if (!record.ok()) return;  // The call's record was never written (fail-open audit).
  record->set_status(absl::StatusCodeToString(status.code()));
  const absl::Status replaced = state_->audit->Replace(*record);
  if (!replaced.ok()) {
    state_->metrics->Increment("warden_audit_failures_total", {});
    std::cerr << absl::StrCat("warden: audit: cannot record status ", record->status(), " of request ", request_id,
                              ": ", replaced.message(), "\n");
  }
}

void WardenService::CountWriteStall(const v1::App& app, const std::string& request_id) const {
  state_->metrics->Increment("warden_stream_write_stalls_total", {{"app", app.id()}});
  LogStreamWriteStall(app.id(), request_id, absl::FromChrono(write_watchdog_->timeout()));
}

void WardenService::Finish(RequestLogEntry entry, absl::Time start) const {
  CountCall(state_->deps(), entry.rpc, entry.app_id, entry.code, start);
  entry.latency = absl::Now() - start;
  LogRequest(entry);
}

}  // namespace warden::gateway
