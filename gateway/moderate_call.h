// One Moderate call after authentication: the app's checks on each text, no generation,
// one audit record for the batch.
#ifndef WARDEN_GATEWAY_MODERATE_CALL_H_
#define WARDEN_GATEWAY_MODERATE_CALL_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/call_context.h"

namespace warden::gateway {

// `deadline` is the call's (its time and its cancellation, CallControl::AsDeadline): the
// LLM policy classifier (the app's, or a request's `policy`) stops there. `outcome`, when
// given, is set to what the client receives once the checks are done: OK, or CANCELLED /
// DEADLINE_EXCEEDED when it left or its deadline passed meanwhile (gRPC then drops the
// response); the audit record's status says the same.
absl::StatusOr<v1::ModerateResponse> RunModerate(const CallDeps& deps, const v1::App& app,
                                                 const v1::ModerateRequest& request,
                                                 const Deadline& deadline = Deadline(),
                                                 absl::Status* outcome = nullptr);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_MODERATE_CALL_H_
