#include "model/tools/float_output.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace warden::model::tools {

absl::StatusOr<FilePtr> OpenFloatOutput(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
  }
  return file;
}

absl::Status WriteFloatsAndClose(FilePtr file, const std::string& path, absl::Span<const float> values) {
  // x86-64 is little-endian, so the floats go out as they are.
  const bool written = std::fwrite(values.data(), sizeof(float), values.size(), file.get()) == values.size();
  const int write_errno = errno;
  // Closes whatever happened, so the buffered tail is flushed (or known lost) before we answer.
  const bool closed = std::fclose(file.release()) == 0;
  if (!written || !closed) {
    return absl::DataLossError(
        absl::StrCat(path, ": short write: ", std::strerror(written ? errno : write_errno)));
  }
  return absl::OkStatus();
}

}  // namespace warden::model::tools
