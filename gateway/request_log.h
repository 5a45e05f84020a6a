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
  // Initialized here, so that brace-initializing the fields above leaves no member without one.
  absl::Duration latency = absl::ZeroDuration();
  std::string key_label = "";  // The caller's key's label from the config (never the key); may be empty.
  std::string detail = "";     // What an admin call did (filters, ids, records returned); may be empty.
};

// The JSON line for `entry` (without the newline). Thread-safe.
std::string FormatRequestLog(const RequestLogEntry& entry);
// Writes FormatRequestLog(entry) and a newline to stderr in one write. Thread-safe.
void LogRequest(const RequestLogEntry& entry);

// The JSON line (a warning, without the newline) for a stream cancelled because its client
// stopped reading: a write waited `timeout`. Thread-safe.
std::string FormatStreamWriteStallLog(const std::string& app_id, const std::string& request_id,
                                      absl::Duration timeout);
// Writes FormatStreamWriteStallLog(...) and a newline to stderr in one write. Thread-safe.
void LogStreamWriteStall(const std::string& app_id, const std::string& request_id, absl::Duration timeout);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_REQUEST_LOG_H_
