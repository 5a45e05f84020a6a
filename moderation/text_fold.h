// Text folding applied before feature extraction, so that trivial spelling variants of the
// same words hash to the same features.
//
// The text goes through //policies:normalizer (NFKC, case folding, invisible characters
// removed, homoglyph and leetspeak folding), then whitespace runs collapse to one space.
// Invalid UTF-8, which the normaliser rejects, falls back to ASCII lower-casing plus
// removal of the common invisible characters, byte by byte. The training tool and the
// classifier use the same function, so a model is only valid with the folding it was
// trained with (the model file records the folding version).
//
// Thread safety: pure function, thread-safe.
#ifndef WARDEN_MODERATION_TEXT_FOLD_H_
#define WARDEN_MODERATION_TEXT_FOLD_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace warden::moderation {

// Version of FoldText's behaviour, stored in model files.
inline constexpr uint32_t kTextFoldVersion = 2;

// Folds `utf8` (invalid UTF-8 is passed through byte by byte, never rejected).
std::string FoldText(std::string_view utf8);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_TEXT_FOLD_H_
