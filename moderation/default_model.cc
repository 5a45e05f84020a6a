#include "moderation/default_model.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace warden::moderation {
namespace {

std::string SelfExecutable() {
  char buffer[4096];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

bool Exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

}  // namespace

absl::StatusOr<std::string> FindDefaultModel() {
  std::vector<std::string> candidates;
  if (const char* runfiles = std::getenv("RUNFILES_DIR"); runfiles != nullptr && *runfiles) {
    candidates.push_back(absl::StrCat(runfiles, "/warden/", kDefaultModelRelativePath));
  }
  if (const std::string exe = SelfExecutable(); !exe.empty()) {
    candidates.push_back(absl::StrCat(exe, ".runfiles/warden/", kDefaultModelRelativePath));
  }
  candidates.push_back(kDefaultModelRelativePath);
  for (const std::string& candidate : candidates) {
    if (Exists(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("default moderation model not found; tried ",
                                          absl::StrJoin(candidates, ", ")));
}

}  // namespace warden::moderation
