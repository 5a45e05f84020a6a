// Checks a request before anything else looks at it: sizes, UTF-8, roles, counts.
// INVALID_ARGUMENT (naming the field) or RESOURCE_EXHAUSTED (naming the limit).
#ifndef WARDEN_GATEWAY_REQUEST_VALIDATION_H_
#define WARDEN_GATEWAY_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "proto/config.pb.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// Stop sequences a request may give, and the bytes of each. Both bound the output's
// hold-back: text that could still start a stop sequence is kept back (up to the longest
// one, less a byte) and flushed in one event when generation ends, which must stay below
// the hold-back queue's high watermark (generate_call.cc) and cheap to search every token.
inline constexpr int kMaxStopSequences = 16;
inline constexpr size_t kMaxStopSequenceBytes = 1024;

absl::Status ValidateGenerateRequest(const v1::GenerateRequest& request, const v1::Limits& limits);
absl::Status ValidateModerateRequest(const v1::ModerateRequest& request, const v1::Limits& limits);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_REQUEST_VALIDATION_H_
