// Locates the default fast classifier model shipped as //moderation:default_model
// (moderation/models/default.wmod) at run time.
//
// Searched like every shipped data file (base/runfiles.h: $RUNFILES_DIR, $TEST_SRCDIR,
// <binary>.runfiles, then the working directory). Depend on //moderation:default_model
// (a filegroup) in `data` to have it in your runfiles.
//
// Thread safety: reads the environment and the file system only.
#ifndef WARDEN_MODERATION_DEFAULT_MODEL_H_
#define WARDEN_MODERATION_DEFAULT_MODEL_H_

#include <string>

#include "absl/status/statusor.h"

namespace warden::moderation {

inline constexpr char kDefaultModelRelativePath[] = "moderation/models/default.wmod";

// The path of the first existing candidate; NotFound listing every candidate otherwise.
absl::StatusOr<std::string> FindDefaultModel();

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_DEFAULT_MODEL_H_
