// Debian's Abseil (20220623) has its own absl::string_view, distinct from
// std::string_view; these convert between the two without copying.
#ifndef WARDEN_POLICIES_STRING_VIEW_COMPAT_H_
#define WARDEN_POLICIES_STRING_VIEW_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace warden::policies {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_STRING_VIEW_COMPAT_H_
