// A configuration error located in its file, as the loader and validators report it.
#ifndef WARDEN_POLICIES_CONFIG_ERROR_H_
#define WARDEN_POLICIES_CONFIG_ERROR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace warden::policies {

// One problem in one policy file. A value type.
struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 = unknown (e.g. JSON files, or a whole-file problem).
  int column = 0;   // 1-based; 0 = unknown.
  std::string field;    // Path of the field, e.g. "rules[2].regex.pattern"; may be empty.
  std::string message;

  // "file:line:column: field: message" (parts that are unknown are left out).
  std::string ToString() const {
    std::string out = file;
    if (line > 0) absl::StrAppend(&out, ":", line);
    if (line > 0 && column > 0) absl::StrAppend(&out, ":", column);
    absl::StrAppend(&out, ": ");
    if (!field.empty()) absl::StrAppend(&out, field, ": ");
    absl::StrAppend(&out, message);
    return out;
  }
};

// INVALID_ARGUMENT listing every error, one per line; OK when there are none.
inline absl::Status ErrorsToStatus(const std::vector<ConfigError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  lines.reserve(errors.size());
  for (const ConfigError& e : errors) lines.push_back(e.ToString());
  return absl::InvalidArgumentError(absl::StrCat(errors.size(), " policy error(s):\n",
                                                 absl::StrJoin(lines, "\n")));
}

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_CONFIG_ERROR_H_
