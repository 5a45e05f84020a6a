// Undoes the "spaced-out letters" evasion ("b a d", "b.a.d", "b-a-d") for term lists.
// Pure function; thread-safe.
#ifndef WARDEN_POLICIES_SPACED_LETTERS_H_
#define WARDEN_POLICIES_SPACED_LETTERS_H_

#include <optional>

#include "policies/normalizer.h"

namespace warden::policies {

// Joins every run of at least three single letters separated by one or two of
// " .-_*/|" into one word, keeping the map to the original bytes. Single leetspeak digits
// (0 1 3 4 5 7) count as letters in a run that has at least two real letters and are
// folded ("f 1 d d l e" -> "fiddle"), as the FOLDED view folds them inside words (so,
// as there, digits written after a spaced word join it: "c o c a i n e 1 0 0" is one word;
// an evasion picks which letters it writes as digits, "i d i 0 7", so none is set apart). Returns
// nullopt when the text has no such run (the caller can then skip scanning this view).
std::optional<NormalizedText> CollapseSpacedLetters(const NormalizedText& text);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_SPACED_LETTERS_H_
