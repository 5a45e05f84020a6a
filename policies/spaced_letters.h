// Undoes the "spaced-out letters" evasion ("b a d", "b.a.d", "b-a-d") for term lists.
// Pure function; thread-safe.
#ifndef WARDEN_POLICIES_SPACED_LETTERS_H_
#define WARDEN_POLICIES_SPACED_LETTERS_H_

#include <optional>

#include "policies/normalizer.h"

namespace warden::policies {

// Joins every run of at least three single letters separated by one or two of
// " .-_*/|" into one word, keeping the map to the original bytes. Returns nullopt when the
// text has no such run (the caller can then skip scanning this view).
std::optional<NormalizedText> CollapseSpacedLetters(const NormalizedText& text);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_SPACED_LETTERS_H_
