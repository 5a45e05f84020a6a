// Checks a request before anything else looks at it: sizes, UTF-8, roles, counts.
// INVALID_ARGUMENT (naming the field) or RESOURCE_EXHAUSTED (naming the limit).
#ifndef WARDEN_GATEWAY_REQUEST_VALIDATION_H_
#define WARDEN_GATEWAY_REQUEST_VALIDATION_H_

#include "absl/status/status.h"
#include "proto/config.pb.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

absl::Status ValidateGenerateRequest(const v1::GenerateRequest& request, const v1::Limits& limits);
absl::Status ValidateModerateRequest(const v1::ModerateRequest& request, const v1::Limits& limits);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_REQUEST_VALIDATION_H_
