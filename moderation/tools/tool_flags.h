// Flag parsing shared by the `classifier` tool's commands (moderation/tools/).
//
// Thread safety: pure functions.
#ifndef WARDEN_MODERATION_TOOLS_TOOL_FLAGS_H_
#define WARDEN_MODERATION_TOOLS_TOOL_FLAGS_H_

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "moderation/dataset.h"
#include "moderation/train_common.h"

namespace warden::moderation::tools {

// --name value or --name=value pairs, by name.
using Flags = std::map<std::string, std::string>;

// Parses argv[first..argc); InvalidArgument for a non-flag argument or a missing value.
absl::StatusOr<Flags> ParseFlags(int argc, char** argv, int first);

// InvalidArgument naming the first flag of `flags` that is not in `known`: a misspelt
// flag (--modle, --epoch) was silently ignored and the default used in its place.
absl::Status CheckKnownFlags(const Flags& flags, const std::set<std::string>& known);

// A relative path against the directory `bazel run` was started from, when known.
std::string ResolvePath(const std::string& path);

// The rows of the --data file at `path` (ReadExamples). InvalidArgument for a directory or a
// file without rows: both read as no rows, and eval printed a 0-row report with exit 0.
absl::StatusOr<std::vector<Example>> ReadDataRows(const std::string& path);

// The value of --name; InvalidArgument when absent.
absl::StatusOr<std::string> Required(const Flags& flags, const std::string& name);

// Sets *out from --name when present (int, float or double); InvalidArgument when the value
// does not parse or is not finite (SimpleAtof reads "nan" and "inf": a NaN weight or rate
// trained a model of NaNs).
template <typename T>
absl::Status Optional(const Flags& flags, const std::string& name, T* out) {
  const auto it = flags.find(name);
  if (it == flags.end()) return absl::OkStatus();
  bool ok;
  if constexpr (std::is_same_v<T, float>) {
    ok = absl::SimpleAtof(it->second, out);
  } else if constexpr (std::is_same_v<T, double>) {
    ok = absl::SimpleAtod(it->second, out);
  } else {
    ok = absl::SimpleAtoi(it->second, out);
  }
  if constexpr (std::is_floating_point_v<T>) ok = ok && std::isfinite(*out);
  return ok ? absl::OkStatus() : absl::InvalidArgumentError("bad value for --" + name + ": " + it->second);
}

// --group_sources: 0 weights every source by its own size, 1 by its group's
// (SourceWeightGroup in moderation/train_common.h); other values are InvalidArgument.
absl::Status ReadGroupSourcesFlag(const Flags& flags, bool* group_sources);

// --dev_split: "text" (the default, every model up to default-v6) hashes each row's text for
// the development split, "group" its group when it has one (DevSplit in
// moderation/train_common.h); other values are InvalidArgument. *split is left as it is when
// the flag is absent.
absl::Status ReadDevSplitFlag(const Flags& flags, DevSplit* split);

}  // namespace warden::moderation::tools

#endif  // WARDEN_MODERATION_TOOLS_TOOL_FLAGS_H_
