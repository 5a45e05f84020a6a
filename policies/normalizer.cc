#include "policies/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::policies {
namespace {

// The ICU normalisers are process-wide singletons owned by ICU; fetched once.
struct Normalizers {
  const icu::Normalizer2* nfkc = nullptr;
  const icu::Normalizer2* nfkc_cf = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
  bool ok = false;
};

const Normalizers& GetNormalizers() {
  static const Normalizers normalizers = [] {
    Normalizers n;
    UErrorCode e1 = U_ZERO_ERROR, e2 = U_ZERO_ERROR, e3 = U_ZERO_ERROR, e4 = U_ZERO_ERROR;
    n.nfkc = icu::Normalizer2::getNFKCInstance(e1);
    n.nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(e2);
    n.nfd = icu::Normalizer2::getNFDInstance(e3);
    n.nfc = icu::Normalizer2::getNFCInstance(e4);
    n.ok = U_SUCCESS(e1) && U_SUCCESS(e2) && U_SUCCESS(e3) && U_SUCCESS(e4);
    return n;
  }();
  return normalizers;
}

bool IsInvisible(UChar32 cp) {
  return u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF || cp == 0x00AD;
}

// Output under construction: text plus the original offset of every byte.
struct Builder {
  std::string text;
  std::vector<uint32_t> origin;
  void Append(std::string_view bytes, uint32_t from) {
    text.append(bytes);
    origin.insert(origin.end(), bytes.size(), from);
  }
  void Append(char c, uint32_t from) {
    text.push_back(c);
    origin.push_back(from);
  }
};

void StripDiacritics(const Normalizers& n, icu::UnicodeString& s) {
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString decomposed = n.nfd->normalize(s, err);
  if (U_FAILURE(err)) return;
  icu::UnicodeString stripped;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 cp = decomposed.char32At(i);
    if (u_charType(cp) != U_NON_SPACING_MARK) stripped.append(cp);
    i += U16_LENGTH(cp);
  }
  err = U_ZERO_ERROR;
  icu::UnicodeString composed = n.nfc->normalize(stripped, err);
  if (U_SUCCESS(err)) s = composed;
}

// Normalises the segment of code points starting at `begin`, appending to `out`.
// Returns the end of the segment, or an error on invalid UTF-8.
absl::StatusOr<size_t> NormalizeSegment(std::string_view in, size_t begin,
                                        const icu::Normalizer2* norm,
                                        const NormalizeOptions& options, Builder& out) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(in.data());
  const int32_t length = static_cast<int32_t>(in.size());
  icu::UnicodeString segment;
  int32_t i = static_cast<int32_t>(begin);
  bool first = true;
  while (i < length) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, length, cp);
    if (cp < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid UTF-8 at byte offset ", start));
    }
    if (!first && norm->hasBoundaryBefore(cp)) {
      i = start;
      break;
    }
    first = false;
    if (!IsInvisible(cp)) segment.append(cp);
  }
  if (segment.isEmpty()) return static_cast<size_t>(i);
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString normalized = norm->normalize(segment, err);
  if (U_FAILURE(err)) normalized = segment;
  if (options.remove_diacritics) {
    StripDiacritics(GetNormalizers(), normalized);
  }
  std::string utf8;
  normalized.toUTF8String(utf8);
  out.Append(utf8, static_cast<uint32_t>(begin));
  return static_cast<size_t>(i);
}

// Cyrillic and Greek lowercase look-alikes of Latin letters (input is case-folded, or
// both cases are listed for the case-preserving view).
char HomoglyphToLatin(UChar32 cp) {
  switch (cp) {
    case 0x0430: case 0x0410: case 0x03B1: case 0x0391: return 'a';  // а А α Α
    case 0x0432: case 0x0412: case 0x03B2: case 0x0392: return 'b';  // в В β Β
    case 0x0441: case 0x0421: case 0x03F2: return 'c';              // с С ϲ
    case 0x0501: return 'd';                                         // ԁ
    case 0x0435: case 0x0415: case 0x0451: case 0x03B5: case 0x0395: return 'e';
    case 0x0261: return 'g';                                         // ɡ
    case 0x043D: case 0x041D: case 0x0397: case 0x04BB: return 'h';  // н Н Η һ
    case 0x0456: case 0x0406: case 0x03B9: case 0x0399: case 0x0131: return 'i';
    case 0x0458: case 0x0408: return 'j';                            // ј Ј
    case 0x043A: case 0x041A: case 0x03BA: case 0x039A: return 'k';  // к К κ Κ
    case 0x04CF: return 'l';                                         // ӏ
    case 0x043C: case 0x041C: case 0x039C: return 'm';               // м М Μ
    case 0x03B7: case 0x039D: return 'n';                            // η Ν
    case 0x043E: case 0x041E: case 0x03BF: case 0x039F: return 'o';  // о О ο Ο
    case 0x0440: case 0x0420: case 0x03C1: case 0x03A1: return 'p';  // р Р ρ Ρ
    case 0x051B: return 'q';                                         // ԛ
    case 0x0455: case 0x0405: return 's';                            // ѕ Ѕ
    case 0x0442: case 0x0422: case 0x03C4: case 0x03A4: return 't';  // т Т τ Τ
    case 0x03C5: return 'u';                                         // υ
    case 0x03BD: return 'v';                                         // ν
    case 0x051D: case 0x03C9: return 'w';                            // ԝ ω
    case 0x0445: case 0x0425: case 0x03C7: case 0x03A7: return 'x';  // х Х χ Χ
    case 0x0443: case 0x0423: case 0x03B3: case 0x03A5: return 'y';  // у У γ Υ
    case 0x0396: return 'z';                                         // Ζ
    default: return 0;
  }
}

char LeetToLetter(char c) {
  switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '@': return 'a';
    case '$': return 's';
    default: return 0;
  }
}

bool IsAsciiLetter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

bool IsWordCodePoint(UChar32 cp) {
  if (cp < 0x80) {
    return IsAsciiLetter(static_cast<unsigned char>(cp)) || (cp >= '0' && cp <= '9') ||
           cp == '@' || cp == '$';
  }
  return u_isalnum(cp) || u_charType(cp) == U_NON_SPACING_MARK;
}

// What a word contains, to decide which folds apply to it.
struct WordTraits {
  bool has_letter = false;           // Any letter (ASCII or not, look-alikes included).
  bool has_ascii_letter = false;
  bool only_lookalikes = true;       // Every non-ASCII letter has a Latin look-alike.
  bool has_lookalike = false;
};

WordTraits AnalyseWord(std::string_view text, size_t begin, size_t end) {
  WordTraits traits;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  int32_t i = static_cast<int32_t>(begin);
  while (i < static_cast<int32_t>(end)) {
    UChar32 cp;
    U8_NEXT(bytes, i, static_cast<int32_t>(end), cp);
    if (cp < 0x80) {
      if (cp >= 0 && IsAsciiLetter(static_cast<unsigned char>(cp))) {
        traits.has_letter = traits.has_ascii_letter = true;
      }
      continue;
    }
    if (!u_isalpha(cp)) continue;
    traits.has_letter = true;
    if (HomoglyphToLatin(cp) != 0) {
      traits.has_lookalike = true;
    } else {
      traits.only_lookalikes = false;
    }
  }
  return traits;
}

// Rewrites one word [begin, end) of `in` into `out`, folding as `traits` allow.
void FoldWord(const Builder& in, size_t begin, size_t end, const WordTraits& traits,
              const NormalizeOptions& options, Builder& out) {
  const bool leet = options.fold_leetspeak && traits.has_letter;
  const bool glyphs = options.fold_homoglyphs && traits.has_lookalike &&
                      (traits.has_ascii_letter || traits.only_lookalikes);
  const auto* bytes = reinterpret_cast<const uint8_t*>(in.text.data());
  int32_t i = static_cast<int32_t>(begin);
  while (i < static_cast<int32_t>(end)) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, static_cast<int32_t>(end), cp);
    const uint32_t from = in.origin[start];
    char replacement = 0;
    if (cp >= 0 && cp < 0x80 && leet) replacement = LeetToLetter(static_cast<char>(cp));
    if (cp >= 0x80 && glyphs) replacement = HomoglyphToLatin(cp);
    if (replacement != 0) {
      out.Append(replacement, from);
    } else {
      for (int32_t k = start; k < i; ++k) out.Append(in.text[k], in.origin[k]);
    }
  }
}

// Applies the per-word folds (homoglyphs, leetspeak) to the whole text.
Builder FoldWords(const Builder& in, const NormalizeOptions& options) {
  Builder out;
  out.text.reserve(in.text.size());
  out.origin.reserve(in.origin.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(in.text.data());
  const int32_t length = static_cast<int32_t>(in.text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, length, cp);
    if (!IsWordCodePoint(cp)) {
      for (int32_t k = start; k < i; ++k) out.Append(in.text[k], in.origin[k]);
      continue;
    }
    int32_t end = i;
    while (end < length) {
      int32_t next = end;
      UChar32 c2;
      U8_NEXT(bytes, next, length, c2);
      if (!IsWordCodePoint(c2)) break;
      end = next;
    }
    FoldWord(in, start, end, AnalyseWord(in.text, start, end), options, out);
    i = end;
  }
  return out;
}

bool NeedsWordFolding(const Builder& b, const NormalizeOptions& options) {
  for (unsigned char c : b.text) {
    if (c >= 0x80 && options.fold_homoglyphs) return true;
    if (options.fold_leetspeak && LeetToLetter(static_cast<char>(c)) != 0) return true;
  }
  return false;
}

}  // namespace

Span NormalizedText::ToOriginal(size_t begin, size_t end) const {
  if (to_original.empty()) return {};
  const size_t last = to_original.size() - 1;  // == text.size()
  begin = std::min(begin, last);
  end = std::min(std::max(end, begin), last);
  if (begin == end) return {to_original[begin], to_original[begin]};
  const uint32_t original_begin = to_original[begin];
  // The original character holding byte end-1 ends where the next one starts.
  const uint32_t last_char = to_original[end - 1];
  size_t k = end;
  while (k < last && to_original[k] == last_char) ++k;
  return {original_begin, to_original[k]};
}

absl::StatusOr<NormalizedText> Normalize(std::string_view utf8,
                                         const NormalizeOptions& options) {
  if (utf8.size() >= UINT32_MAX || utf8.size() >= static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("text too large to normalise");
  }
  const Normalizers& normalizers = GetNormalizers();
  if (!normalizers.ok) return absl::InternalError("ICU normalisation data unavailable");
  const icu::Normalizer2* norm = options.case_fold ? normalizers.nfkc_cf : normalizers.nfkc;

  Builder built;
  built.text.reserve(utf8.size());
  built.origin.reserve(utf8.size() + 1);
  size_t i = 0;
  const size_t n = utf8.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    const bool next_ascii = i + 1 == n || static_cast<unsigned char>(utf8[i + 1]) < 0x80;
    if (c < 0x80 && next_ascii) {  // Fast path: ASCII is NFKC; only case folds.
      const bool upper = c >= 'A' && c <= 'Z';
      built.Append(static_cast<char>(options.case_fold && upper ? c + 32 : c),
                   static_cast<uint32_t>(i));
      ++i;
      continue;
    }
    absl::StatusOr<size_t> next = NormalizeSegment(utf8, i, norm, options, built);
    if (!next.ok()) return next.status();
    i = *next;
  }
  if ((options.fold_homoglyphs || options.fold_leetspeak) &&
      NeedsWordFolding(built, options)) {
    built = FoldWords(built, options);
  }
  NormalizedText result;
  result.text = std::move(built.text);
  result.to_original = std::move(built.origin);
  result.to_original.push_back(static_cast<uint32_t>(n));
  return result;
}

}  // namespace warden::policies
