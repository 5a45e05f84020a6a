// `--name value` / `--name=value` flags of one oss subcommand. Thread safety: immutable
// after Parse.
#ifndef WARDEN_MODEL_TOOLS_FLAGS_H_
#define WARDEN_MODEL_TOOLS_FLAGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace warden::model::tools {

class Flags {
 public:
  // Every argument must be a flag known to the subcommand (`known`).
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& known);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  absl::StatusOr<std::string> Required(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& fallback) const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  // GetInt, refusing a value outside [min, max]: the tools narrow values to int, and a
  // wrapped 4294967297 must not become 1.
  absl::StatusOr<int64_t> GetIntInRange(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

// The range of --threads: 0 is one per core; as many as the server's model.threads allows.
inline constexpr int64_t kMaxThreadsFlag = 1024;

// Parses "1 2 3" or "1,2,3" into ids.
absl::StatusOr<std::vector<int32_t>> ParseIdList(const std::string& text, const std::string& flag);

}  // namespace warden::model::tools

#endif  // WARDEN_MODEL_TOOLS_FLAGS_H_
