// One Generate or StreamGenerate call after authentication:
//   limits → input checks (block or redact before the model sees anything) → model →
//   output checks on a bounded hold-back queue → audit record (committed before the last
//   message) → response.
// The unary and the streaming calls share this path; the unary call just collects what
// the streaming call would have sent.
#ifndef WARDEN_GATEWAY_GENERATE_CALL_H_
#define WARDEN_GATEWAY_GENERATE_CALL_H_

#include <functional>

#include "absl/status/statusor.h"
#include "gateway/call_context.h"

namespace warden::gateway {

// Sends one chunk to the client; false when the client is gone.
using ChunkWriter = std::function<bool(const v1::GenerateChunk&)>;

// Runs the call. With a `writer`, deltas and tool calls are streamed through it and the
// returned response is the summary (its text fields empty); without, the response holds
// everything. Blocked requests are not errors: they return OK with finish_reason BLOCKED
// and the decision that blocked them.
absl::StatusOr<v1::GenerateResponse> RunGenerate(const CallDeps& deps, const v1::App& app,
                                                 const v1::GenerateRequest& request, const CallControl& control,
                                                 const ChunkWriter* writer);

// What the client of a call RunGenerate finished with `finish_reason` receives, for its
// audit record, metrics and log: a call that ended CANCELLED (the client left, the server
// cancelled it), or that `control` says was cancelled whatever its ending (a block decided
// after the client left or its deadline passed: gRPC cancels such a call and drops the
// answer), is CANCELLED to the client, or DEADLINE_EXCEEDED once control.deadline passed;
// any other ending is OK.
absl::Status ClientOutcome(v1::FinishReason finish_reason, const CallControl& control);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_GENERATE_CALL_H_
