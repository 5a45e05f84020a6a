// Whole-file reads with errors as values.
#ifndef WARDEN_BASE_FILE_H_
#define WARDEN_BASE_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace warden {

// The file's bytes; NOT_FOUND (naming the path) when it cannot be opened or read, or is a
// directory.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace warden

#endif  // WARDEN_BASE_FILE_H_
