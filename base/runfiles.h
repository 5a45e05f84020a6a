// Finds data files shipped with a Bazel binary (its runfiles), wherever it was started
// from: `bazel run`, `bazel test`, or bazel-bin/... directly.
#ifndef WARDEN_BASE_RUNFILES_H_
#define WARDEN_BASE_RUNFILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace warden {

// `relative` is a workspace-relative path such as "model/tokenizer/data/o200k_base.tiktoken".
// Tries $RUNFILES_DIR/warden/, $TEST_SRCDIR/warden/, <this binary>.runfiles/warden/, then the
// working directory. NOT_FOUND lists what was tried.
absl::StatusOr<std::string> FindRunfile(const std::string& relative);

}  // namespace warden

#endif  // WARDEN_BASE_RUNFILES_H_
