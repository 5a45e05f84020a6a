#include "base/runfiles.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace warden {

absl::StatusOr<std::string> FindRunfile(const std::string& relative) {
  std::vector<std::string> candidates;
  for (const char* variable : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    const char* root = std::getenv(variable);
    if (root != nullptr && *root != '\0') candidates.push_back(absl::StrCat(root, "/warden/", relative));
  }
  char buffer[4096];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length > 0) candidates.push_back(absl::StrCat(std::string(buffer, length), ".runfiles/warden/", relative));
  candidates.push_back(relative);
  for (const std::string& candidate : candidates) {
    if (access(candidate.c_str(), R_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(relative, " not found; tried ", absl::StrJoin(candidates, ", ")));
}

}  // namespace warden
