// Text folding applied before feature extraction, so that trivial spelling variants of the
// same words hash to the same features.
//
// Version 2 (models up to default-v6): the text goes through //policies:normalizer (NFKC,
// case folding, invisible characters removed, homoglyph and leetspeak folding), then
// whitespace runs collapse to one space.
// Version 3 adds the evasions measured against version 2 (MODEL_CARD.md, "Evasions"):
//   - before normalising, in a run of non-space characters that holds an ASCII letter:
//     "/\\" -> a, "€" -> e, "|" -> l, and "!" -> i or "(" -> c between a letter-like
//     character and a letter-like character ("ev!|", "lyr!(5"; a trailing "!" stays);
//   - diacritics and other combining marks removed (the normaliser's remove_diacritics:
//     "kíll", strikethrough U+0336);
//   - after folding, three or more single letters separated by one space or one of
//     ".-_*,+" join into a word ("k i l l", "k.i.l.l" -> "kill");
//   - a run of three or more of the same ASCII letter becomes one ("stuuupid" -> "stupid",
//     "kiiiill" -> "kill").
// Invalid UTF-8, which the normaliser rejects, falls back to ASCII lower-casing plus
// removal of the common invisible characters, byte by byte (and, in version 3, the same
// single-letter and repeated-letter folds). The training tool and the classifier use the
// same function, so a model is only valid with the folding it was trained with (the model
// file records the folding version, and the classifier folds with that version).
//
// Thread safety: pure function, thread-safe.
#ifndef WARDEN_MODERATION_TEXT_FOLD_H_
#define WARDEN_MODERATION_TEXT_FOLD_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace warden::moderation {

// Version of FoldText's behaviour that training writes into new model files.
inline constexpr uint32_t kTextFoldVersion = 3;
// The oldest version this build still folds (older model files load and score as before).
inline constexpr uint32_t kOldestTextFoldVersion = 2;

// Folds `utf8` as folding `version` does (invalid UTF-8 is passed through byte by byte,
// never rejected). `version` must be in [kOldestTextFoldVersion, kTextFoldVersion]; the
// classifier checks a model's version when it loads.
std::string FoldText(std::string_view utf8, uint32_t version = kTextFoldVersion);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_TEXT_FOLD_H_
