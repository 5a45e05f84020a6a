// An upper bound on the bytes a regular expression can match, so the streaming scanner
// knows how much tail to hold back, and whether it can match the empty string. Pure
// functions; thread-safe.
#ifndef WARDEN_POLICIES_REGEX_BOUNDS_H_
#define WARDEN_POLICIES_REGEX_BOUNDS_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "re2/re2.h"

namespace warden::policies {

// An upper bound on the length in UTF-8 bytes of any match of `pattern` (RE2 syntax), or
// nullopt when it is unbounded (`*`, `+`, `{n,}`). Over-estimates: every character class,
// `.`, escape and case-insensitive letter counts as 4 bytes. Only meaningful for patterns
// RE2 has already accepted.
std::optional<size_t> MaxMatchBytes(std::string_view pattern);

// Whether `regex` (compiled, ok()) matches the empty string at some position of some text:
// "", "x*", "a?", "(?:)|secret", but also "^", "(?m)^", "$", `\b`, `\B`, `\bfoo|`.
// Exact: an empty match depends only on the text's context at that position (beginning or
// end of the text, a '\n' before or after, a word character before or after), and every
// such context is tried.
bool MatchesEmptyString(const RE2& regex);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_REGEX_BOUNDS_H_
