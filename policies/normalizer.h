// Text normalisation before matching: one canonical form of a text for filters and
// classifiers, with a byte-offset map back to the original so findings can be reported
// (and redacted) in the bytes the app actually sent.
//
// The pipeline, per Unicode normalisation segment (a starter plus its combining marks):
//   1. invisible and format characters (Default_Ignorable_Code_Point: zero-width
//      characters, bidi controls, soft hyphen, variation selectors, BOM, ...) are dropped;
//   2. NFKC (full-width, ligatures, math alphanumerics -> plain forms), with case folding
//      unless `case_fold` is false;
//   3. optionally diacritics are removed (NFD, drop non-spacing marks, NFC).
// Then, per word (a run of letters, digits, '@' and '$'):
//   4. homoglyphs (Cyrillic/Greek look-alikes) fold to Latin (keeping upper case when
//      case_fold is off) when the word mixes scripts or consists only of look-alikes, so
//      genuine Cyrillic/Greek words stay intact;
//   5. leetspeak (0->o 1->i 3->e 4->a 5->s 7->t @->a $->s) folds only in words that
//      contain at least one letter, so numbers (card digits, prices) are preserved.
//
// Pure functions; thread-safe.
#ifndef WARDEN_POLICIES_NORMALIZER_H_
#define WARDEN_POLICIES_NORMALIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace warden::policies {

// The letter a leetspeak character stands for (0->o 1->i 3->e 4->a 5->s 7->t @->a $->s),
// or 0 for any other character.
char LeetToLetter(char c);

// A half-open byte range [begin, end).
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// A normalised text and its map back to the original bytes. A value type; copyable.
struct NormalizedText {
  // NFKC + case-folded + invisibles removed + homoglyph/leet folded, UTF-8.
  std::string text;
  // Size text.size() + 1: byte i of `text` came from the original character starting at
  // byte to_original[i]; the last entry is the original size. Non-decreasing.
  std::vector<uint32_t> to_original;

  // Maps a normalised [begin, end) to the original [begin, end) covering whole original
  // characters. Out-of-range arguments are clamped; an empty span maps to an empty span.
  Span ToOriginal(size_t begin, size_t end) const;
};

struct NormalizeOptions {
  bool fold_leetspeak = true;
  bool fold_homoglyphs = true;
  bool remove_diacritics = false;
  // False keeps letter case (NFKC instead of NFKC_Casefold): the view detectors of
  // case-sensitive formats (secrets, base64) need.
  bool case_fold = true;
};

// Returns INVALID_ARGUMENT (naming the byte offset) when `utf8` is not valid UTF-8.
absl::StatusOr<NormalizedText> Normalize(std::string_view utf8,
                                         const NormalizeOptions& options = {});

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_NORMALIZER_H_
