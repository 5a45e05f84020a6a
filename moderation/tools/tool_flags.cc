#include "moderation/tools/tool_flags.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation::tools {

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, int first) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError("unexpected argument " + arg);
    arg = arg.substr(2);
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return absl::InvalidArgumentError("flag --" + arg + " needs a value");
    }
  }
  return flags;
}

absl::Status CheckKnownFlags(const Flags& flags, const std::set<std::string>& known) {
  for (const auto& [name, value] : flags) {
    if (known.count(name) == 0) return absl::InvalidArgumentError("unknown flag --" + name);
  }
  return absl::OkStatus();
}

std::string ResolvePath(const std::string& path) {
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || base == nullptr || *base == '\0') return path;
  return absl::StrCat(base, "/", path);
}

absl::StatusOr<std::vector<Example>> ReadDataRows(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("data file ", path, " is a directory"));
  }
  std::map<std::string, int> ignored_keys;
  ASSIGN_OR_RETURN(std::vector<Example> rows, ReadExamples(path, &ignored_keys));
  if (rows.empty()) return absl::InvalidArgumentError(absl::StrCat("data file ", path, " holds no rows"));
  if (!ignored_keys.empty()) {
    // Not an error (rows may carry ids or notes), but never silent: a misspelt label key
    // turns positives into negatives.
    std::string keys;
    for (const auto& [key, rows_with_it] : ignored_keys) {
      absl::StrAppend(&keys, keys.empty() ? "" : ", ", "\"", absl::CHexEscape(key.substr(0, 64)), "\" (", rows_with_it,
                      " rows)");
    }
    std::cerr << "classifier: warning: " << path << ": keys ignored: " << keys
              << "; a row's labels are read from \"categories\" and \"unknown\" only\n";
  }
  return rows;
}

absl::StatusOr<std::string> Required(const Flags& flags, const std::string& name) {
  const auto it = flags.find(name);
  if (it == flags.end()) return absl::InvalidArgumentError("missing --" + name);
  return it->second;
}

absl::Status ReadGroupSourcesFlag(const Flags& flags, bool* group_sources) {
  int value = 0;
  RETURN_IF_ERROR(Optional(flags, "group_sources", &value));
  if (value != 0 && value != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--group_sources must be 0 or 1, got ", value));
  }
  *group_sources = value == 1;
  return absl::OkStatus();
}

absl::Status ReadDevSplitFlag(const Flags& flags, DevSplit* split) {
  const auto it = flags.find("dev_split");
  if (it == flags.end()) return absl::OkStatus();
  if (it->second != "text" && it->second != "group") {
    return absl::InvalidArgumentError("--dev_split must be text or group, got " + it->second);
  }
  *split = it->second == "group" ? DevSplit::kGroup : DevSplit::kText;
  return absl::OkStatus();
}

}  // namespace warden::moderation::tools
