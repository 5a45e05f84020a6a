#include "moderation/default_model.h"

#include "absl/strings/str_cat.h"
#include "base/runfiles.h"

namespace warden::moderation {

absl::StatusOr<std::string> FindDefaultModel() {
  auto path = FindRunfile(kDefaultModelRelativePath);
  if (!path.ok()) {
    return absl::NotFoundError(absl::StrCat("default moderation model: ", path.status().message()));
  }
  return path;
}

}  // namespace warden::moderation
