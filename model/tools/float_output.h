// The float32 little-endian output file of `oss logits`.
#ifndef WARDEN_MODEL_TOOLS_FLOAT_OUTPUT_H_
#define WARDEN_MODEL_TOOLS_FLOAT_OUTPUT_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace warden::model::tools {

using FilePtr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Opens `path` for writing (truncating it), so a caller can find an unwritable path before
// it spends minutes computing what goes there.
absl::StatusOr<FilePtr> OpenFloatOutput(const std::string& path);

// Writes `values` to `file` (opened on `path`) as float32 little-endian, then closes it.
// The close is checked too: stdio holds the tail of the data until then, and a disk that
// fills up there would otherwise leave a truncated file behind a success.
absl::Status WriteFloatsAndClose(FilePtr file, const std::string& path, absl::Span<const float> values);

}  // namespace warden::model::tools

#endif  // WARDEN_MODEL_TOOLS_FLOAT_OUTPUT_H_
