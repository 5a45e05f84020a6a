#include "base/file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  // A directory opens and reads as empty text, which callers would take for an empty file.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": it is a directory"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return absl::NotFoundError(absl::StrCat("error while reading ", path));
  return buffer.str();
}

}  // namespace warden
