// An upper bound on the bytes a regular expression can match, so the streaming scanner
// knows how much tail to hold back. Pure function; thread-safe.
#ifndef WARDEN_POLICIES_REGEX_BOUNDS_H_
#define WARDEN_POLICIES_REGEX_BOUNDS_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace warden::policies {

// An upper bound on the length in UTF-8 bytes of any match of `pattern` (RE2 syntax), or
// nullopt when it is unbounded (`*`, `+`, `{n,}`). Over-estimates: every character class,
// `.`, escape and case-insensitive letter counts as 4 bytes. Only meaningful for patterns
// RE2 has already accepted.
std::optional<size_t> MaxMatchBytes(std::string_view pattern);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_REGEX_BOUNDS_H_
