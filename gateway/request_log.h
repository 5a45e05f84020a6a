// Structured request logs: one JSON line per call on stderr, with the request id and the
// decision, never API keys and never content.
#ifndef WARDEN_GATEWAY_REQUEST_LOG_H_
#define WARDEN_GATEWAY_REQUEST_LOG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/common.pb.h"

namespace warden::gateway {

struct RequestLogEntry {
  std::string rpc;
  std::string app_id;      // Empty when authentication failed.
  std::string request_id;  // Empty when the call failed before one was assigned.
  absl::StatusCode code = absl::StatusCode::kOk;
  v1::Action input_action = v1::ACTION_UNSPECIFIED;
  v1::Action output_action = v1::ACTION_UNSPECIFIED;
  absl::Duration latency;
};

// The JSON line for `entry` (without the newline). Thread-safe.
std::string FormatRequestLog(const RequestLogEntry& entry);
// Writes FormatRequestLog(entry) and a newline to stderr in one write. Thread-safe.
void LogRequest(const RequestLogEntry& entry);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_REQUEST_LOG_H_
