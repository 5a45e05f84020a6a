#include "gateway/request_log.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace warden::gateway {
namespace {

// App ids and request ids come from the config and from us, but quote defensively.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string FormatRequestLog(const RequestLogEntry& entry) {
  return absl::StrCat("{\"time\":", JsonString(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())),
                      ",\"level\":\"info\",\"rpc\":", JsonString(entry.rpc), ",\"app\":", JsonString(entry.app_id),
                      ",\"request_id\":", JsonString(entry.request_id),
                      ",\"code\":", JsonString(absl::StatusCodeToString(entry.code)),
                      ",\"input_action\":", JsonString(v1::Action_Name(entry.input_action)),
                      ",\"output_action\":", JsonString(v1::Action_Name(entry.output_action)),
                      ",\"latency_ms\":", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(entry.latency)), "}");
}

void LogRequest(const RequestLogEntry& entry) {
  const std::string line = FormatRequestLog(entry) + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace warden::gateway
