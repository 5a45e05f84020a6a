// Turns phrase lists (term lists, injection phrases) into RE2 patterns over the FOLDED
// view, and holds the built-in prompt-injection phrase and token lists. Pure functions;
// thread-safe.
#ifndef WARDEN_POLICIES_PHRASES_H_
#define WARDEN_POLICIES_PHRASES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "policies/normalizer.h"

namespace warden::policies {

// The normalisation of the FOLDED view (case, diacritics, homoglyphs, leetspeak).
NormalizeOptions FoldedViewOptions();
// The LITERAL view: NFKC, invisibles removed, look-alike letters in mixed-script words
// folded to Latin with their case kept; no case folding, no leetspeak.
NormalizeOptions LiteralViewOptions();

// A phrase template: words separated by spaces; "a|b" is a choice of words and "[a|b]" an
// optional choice. Each word is normalised like the FOLDED view and quoted; words are
// joined by 1..3 non-letter characters. Returns the regex body without boundaries, or
// INVALID_ARGUMENT when the template is empty or a word is not valid UTF-8.
absl::StatusOr<std::string> PhraseTemplateToRegex(std::string_view phrase);

// Wraps an alternation of bodies with whole-word boundaries. The pattern has no capturing
// group (submatch extraction on thousands of alternatives is slow): a match includes at
// most one boundary character on each side, which TrimWordBoundaries removes. Bodies must
// begin and end with a letter or digit.
std::string WholeWordAlternation(const std::vector<std::string>& bodies);

// Like WholeWordAlternation for bodies that may begin or end with punctuation (`c\+\+`),
// where TrimWordBoundaries cannot tell the boundary from the body: the alternation is
// capturing group 1, which is the finding. Still delimited by a non-word character (or the
// text's ends) on both sides, so "c++" is not found in "abc++" or "c++x".
std::string WholeTokenAlternation(const std::vector<std::string>& bodies);

// Shrinks a match [begin, end) of a WholeWordAlternation pattern in `text` to the phrase
// by dropping a leading and a trailing non-word character.
std::pair<size_t, size_t> TrimWordBoundaries(std::string_view text, size_t begin, size_t end);

// True when `text` has a letter or digit (in the FOLDED view's sense) at both ends.
bool StartsAndEndsWithWordCharacter(std::string_view text);

// The built-in instruction-override and jailbreak phrases, as templates, in several
// languages.
const std::vector<std::string_view>& BuiltinOverridePhrases();
// Chat-template role and special-token text ("<|start|>system", "[INST]", ...), as an RE2
// over the LITERAL view.
std::string_view RoleTokenPattern();

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_PHRASES_H_
