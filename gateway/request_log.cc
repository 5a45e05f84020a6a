#include "gateway/request_log.h"

#include <errno.h>
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

std::string JsonNow() { return JsonString(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())); }

// One write per line where the system allows it; a short write (a full pipe) goes on with
// the rest rather than leaving a cut line.
void WriteLine(std::string line) {
  line += "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t wrote = write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;  // stderr is gone: nothing to report to.
    done += static_cast<size_t>(wrote);
  }
}

}  // namespace

std::string FormatRequestLog(const RequestLogEntry& entry) {
  return absl::StrCat("{\"time\":", JsonNow(), ",\"level\":\"info\",\"rpc\":", JsonString(entry.rpc),
                      ",\"app\":", JsonString(entry.app_id), ",\"request_id\":", JsonString(entry.request_id),
                      ",\"code\":", JsonString(absl::StatusCodeToString(entry.code)),
                      ",\"input_action\":", JsonString(v1::Action_Name(entry.input_action)),
                      ",\"output_action\":", JsonString(v1::Action_Name(entry.output_action)),
                      ",\"latency_ms\":", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(entry.latency)),
                      entry.key_label.empty() ? "" : absl::StrCat(",\"key\":", JsonString(entry.key_label)),
                      entry.detail.empty() ? "" : absl::StrCat(",\"detail\":", JsonString(entry.detail)), "}");
}

void LogRequest(const RequestLogEntry& entry) { WriteLine(FormatRequestLog(entry)); }

std::string FormatStreamWriteStallLog(const std::string& app_id, const std::string& request_id,
                                      absl::Duration timeout) {
  return absl::StrCat("{\"time\":", JsonNow(), ",\"level\":\"warning\",\"event\":\"stream_write_stall\"",
                      ",\"rpc\":\"StreamGenerate\",\"app\":", JsonString(app_id),
                      ",\"request_id\":", JsonString(request_id),
                      ",\"write_timeout_s\":", absl::ToInt64Seconds(timeout), "}");
}

void LogStreamWriteStall(const std::string& app_id, const std::string& request_id, absl::Duration timeout) {
  WriteLine(FormatStreamWriteStallLog(app_id, request_id, timeout));
}

}  // namespace warden::gateway
