#include "policies/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
    for (size_t k = 0; k < bytes.size(); ++k) origin.push_back(from);
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

// A starter and the 31 code points after it (UAX #15's 30 non-starters, and one to spare).
constexpr int32_t kMaxSegmentCodePoints = 32;

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
  int32_t code_points = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, length, cp);
    if (cp < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid UTF-8 at byte offset ", start));
    }
    // A segment ends at a normalisation boundary, or after kMaxSegmentCodePoints: ICU's
    // canonical reordering is quadratic in a run of combining marks ("Zalgo" text: 256 KB
    // took 6-8 s per scan), and the Stream-Safe Text Format (UAX #15) bounds a character at
    // 30 combining marks for the same reason. Marks past it start a segment of their own.
    if (!first && (code_points >= kMaxSegmentCodePoints || norm->hasBoundaryBefore(cp))) {
      i = start;
      break;
    }
    first = false;
    ++code_points;
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

}  // namespace

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

namespace {

bool IsAsciiLetter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

// Character classes of U+0000..U+07FF, looked up without calling into ICU.
struct SmallClasses {
  // 1 = letter, 2 = letter, digit or non-spacing mark, 4 = a Latin look-alike.
  uint8_t bits[0x800];
  SmallClasses() : bits{} {
    for (UChar32 cp = 0; cp < 0x800; ++cp) {
      bits[cp] = static_cast<uint8_t>((u_isalpha(cp) ? 1 : 0) |
                                      (u_isalnum(cp) || u_charType(cp) == U_NON_SPACING_MARK ? 2 : 0) |
                                      (HomoglyphToLatin(cp) != 0 ? 4 : 0));
    }
  }
};

// Built on first use, so that normalising from another static initialiser is safe.
inline const SmallClasses& Classes() {
  static const SmallClasses classes;
  return classes;
}


bool IsWordCodePoint(UChar32 cp) {
  if (cp < 0x80) {
    return IsAsciiLetter(static_cast<unsigned char>(cp)) || (cp >= '0' && cp <= '9') ||
           cp == '@' || cp == '$';
  }
  if (cp < 0x800) return (Classes().bits[cp] & 2) != 0;
  return u_isalnum(cp) || u_charType(cp) == U_NON_SPACING_MARK;
}

// What a word contains, to decide which folds apply to it.
struct WordTraits {
  bool has_letter = false;           // Any letter (ASCII or not, look-alikes included).
  bool has_ascii_letter = false;
  bool only_lookalikes = true;       // Every non-ASCII letter has a Latin look-alike.
  bool has_lookalike = false;
  bool has_leet = false;             // A character leetspeak folding would replace.
};


// Rewrites the word [begin, end) of `b` to position `write` (<= begin), folding as
// `traits` allow. Returns the new write position.
size_t FoldWord(Builder& b, size_t begin, size_t end, const WordTraits& traits,
                const NormalizeOptions& options, size_t write) {
  const bool leet = options.fold_leetspeak && traits.has_letter;
  const bool glyphs = options.fold_homoglyphs && traits.has_lookalike &&
                      (traits.has_ascii_letter || traits.only_lookalikes);
  const auto* bytes = reinterpret_cast<const uint8_t*>(b.text.data());
  int32_t i = static_cast<int32_t>(begin);
  while (i < static_cast<int32_t>(end)) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, static_cast<int32_t>(end), cp);
    const uint32_t from = b.origin[start];
    char replacement = 0;
    if (cp >= 0 && cp < 0x80 && leet) replacement = LeetToLetter(static_cast<char>(cp));
    if (cp >= 0x80 && glyphs) {
      replacement = HomoglyphToLatin(cp);
      // Keep the letter case for the case-preserving view (Cyrillic А -> A).
      if (replacement != 0 && u_isupper(cp)) replacement = static_cast<char>(replacement - 32);
    }
    if (replacement != 0) {
      b.text[write] = replacement;
      b.origin[write] = from;
      ++write;
    } else {
      for (int32_t k = start; k < i; ++k, ++write) {
        b.text[write] = b.text[k];
        b.origin[write] = b.origin[k];
      }
    }
  }
  return write;
}

// Appends the ASCII bytes in[begin, end), lower-cased when `case_fold`, each mapped to its
// own offset. Sixteen bytes at a time where SSE2 is available (every x86-64).
void AppendAsciiRun(std::string_view in, size_t begin, size_t end, bool case_fold, Builder& out) {
  const size_t count = end - begin;
  if (count < 16) {  // Spaces between non-ASCII words: resizing would cost more.
    for (size_t k = begin; k < end; ++k) {
      const char c = in[k];
      out.text.push_back(case_fold && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
      out.origin.push_back(static_cast<uint32_t>(k));
    }
    return;
  }
  const size_t at = out.text.size();
  out.text.resize(at + count);
  out.origin.resize(at + count);
  char* text = &out.text[at];
  const char* from = in.data() + begin;
  uint32_t* origin = &out.origin[at];
  const auto first = static_cast<uint32_t>(begin);
  size_t k = 0;
#ifdef __SSE2__
  const __m128i above = _mm_set1_epi8('A' - 1), below = _mm_set1_epi8('Z' + 1);
  const __m128i delta = _mm_set1_epi8(case_fold ? 32 : 0);
  for (; k + 16 <= count; k += 16) {
    // ASCII only, so the signed byte comparisons are exact.
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + k));
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, above), _mm_cmplt_epi8(v, below));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(text + k),
                     _mm_add_epi8(v, _mm_and_si128(upper, delta)));
  }
  __m128i offsets = _mm_add_epi32(_mm_set1_epi32(static_cast<int>(first)), _mm_setr_epi32(0, 1, 2, 3));
  const __m128i four = _mm_set1_epi32(4);
  size_t o = 0;
  for (; o + 4 <= count; o += 4) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(origin + o), offsets);
    offsets = _mm_add_epi32(offsets, four);
  }
  for (; o < count; ++o) origin[o] = first + static_cast<uint32_t>(o);
#else
  for (size_t o = 0; o < count; ++o) origin[o] = first + static_cast<uint32_t>(o);
#endif
  for (; k < count; ++k) {
    const char c = from[k];
    text[k] = case_fold && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }
}

// The end of the run of ASCII bytes starting at `i`, eight bytes at a time.
size_t AsciiRunEnd(std::string_view in, size_t i) {
  const size_t n = in.size();
  while (i + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, in.data() + i, 8);
    if ((word & 0x8080808080808080ull) != 0) break;
    i += 8;
  }
  while (i < n && static_cast<unsigned char>(in[i]) < 0x80) ++i;
  return i;
}

// Precomputed normalisation of every two-byte code point (U+0080..U+07FF: Latin-1,
// Latin Extended, Greek, Cyrillic, Hebrew, Arabic...) standing alone as its own segment.
struct TwoByteTable {
  struct Entry {
    char bytes[12];
    uint8_t length = 0;
    bool boundary_before = false;  // Starts a new normalisation segment.
    bool usable = false;           // The normalised form fits and is context-free.
  };
  std::vector<Entry> entries;  // Indexed by code point - 0x80.
};

TwoByteTable BuildTwoByteTable(bool case_fold, bool remove_diacritics) {
  const Normalizers& n = GetNormalizers();
  const icu::Normalizer2* norm = case_fold ? n.nfkc_cf : n.nfkc;
  TwoByteTable table;
  table.entries.resize(0x800 - 0x80);
  if (!n.ok) return table;
  for (UChar32 cp = 0x80; cp < 0x800; ++cp) {
    TwoByteTable::Entry& e = table.entries[cp - 0x80];
    e.boundary_before = norm->hasBoundaryBefore(cp);
    if (!e.boundary_before) continue;  // A combining mark: needs its base.
    std::string utf8;
    if (!IsInvisible(cp)) {
      UErrorCode err = U_ZERO_ERROR;
      icu::UnicodeString normalized = norm->normalize(icu::UnicodeString(cp), err);
      if (U_FAILURE(err)) continue;
      if (remove_diacritics) StripDiacritics(n, normalized);
      normalized.toUTF8String(utf8);
    }
    if (utf8.size() > sizeof(e.bytes)) continue;
    std::copy(utf8.begin(), utf8.end(), e.bytes);
    e.length = static_cast<uint8_t>(utf8.size());
    e.usable = true;
  }
  return table;
}

const TwoByteTable& GetTwoByteTable(bool case_fold, bool remove_diacritics) {
  static const TwoByteTable tables[4] = {
      BuildTwoByteTable(false, false), BuildTwoByteTable(false, true),
      BuildTwoByteTable(true, false), BuildTwoByteTable(true, true)};
  return tables[(case_fold ? 2 : 0) + (remove_diacritics ? 1 : 0)];
}

// Appends the run of two-byte characters from `i` that are each a segment by themselves
// (the next character starts a new segment); returns the end of the run, `i` when the
// character at `i` needs the general path.
size_t AppendTwoByteRun(std::string_view in, size_t i, const TwoByteTable& table, Builder& out) {
  const size_t n = in.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
  while (i + 1 < n) {
    const unsigned b0 = bytes[i], b1 = bytes[i + 1];
    if ((b0 & 0xE0) != 0xC0 || b0 < 0xC2 || (b1 & 0xC0) != 0x80) break;
    const TwoByteTable::Entry& e = table.entries[(((b0 & 0x1F) << 6) | (b1 & 0x3F)) - 0x80];
    if (!e.usable) break;
    if (i + 2 < n && bytes[i + 2] >= 0x80) {
      // The next character must start its own segment.
      const unsigned next = bytes[i + 2];
      if ((next & 0xE0) != 0xC0 || i + 3 >= n) break;
      const unsigned next_cp = ((next & 0x1F) << 6) | (bytes[i + 3] & 0x3F);
      if (next_cp < 0x80 || !table.entries[next_cp - 0x80].boundary_before) break;
    }
    for (uint8_t k = 0; k < e.length; ++k) {  // Usually two bytes: cheaper than append().
      out.text.push_back(e.bytes[k]);
      out.origin.push_back(static_cast<uint32_t>(i));
    }
    i += 2;
  }
  return i;
}

// True when the character at `i` (not ASCII) starts a new normalisation segment, so the
// ASCII byte before it can be emitted on its own.
bool StartsSegment(std::string_view in, size_t i, const TwoByteTable& table,
                   const icu::Normalizer2* norm) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(in.data());
  int32_t k = static_cast<int32_t>(i);
  UChar32 cp;
  U8_NEXT(bytes, k, static_cast<int32_t>(in.size()), cp);
  if (cp < 0) return false;  // Invalid: let the segment path report it.
  if (cp < 0x800) return table.entries[cp - 0x80].boundary_before;
  return norm->hasBoundaryBefore(cp);
}

// ASCII characters that belong to words for the per-word folds.
bool IsAsciiWordByte(unsigned char c) {
  return IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '@' || c == '$';
}

// Per ASCII byte: kWordByte, kLetterByte, kLeetByte.
enum : uint8_t { kWordByte = 1, kLetterByte = 2, kLeetByte = 4 };
struct AsciiClasses {
  uint8_t bits[128];
  AsciiClasses() : bits{} {
    for (int c = 0; c < 128; ++c) {
      const auto u = static_cast<unsigned char>(c);
      bits[c] = static_cast<uint8_t>((IsAsciiWordByte(u) ? kWordByte : 0) |
                                     (IsAsciiLetter(u) ? kLetterByte : 0) |
                                     (LeetToLetter(static_cast<char>(c)) != 0 ? kLeetByte : 0));
    }
  }
};
const AsciiClasses kAscii;

// The non-ASCII letters of a word, for its WordTraits.
struct NonAsciiLetters {
  bool any = false;        // Any non-ASCII letter.
  bool lookalike = false;  // One with a Latin look-alike.
  bool other = false;      // One without.
  void Note(UChar32 cp) {
    NoteClasses(cp >= 0 && cp < 0x800 ? Classes().bits[cp] : (u_isalpha(cp) ? 1 : 0));
  }
  void NoteClasses(uint8_t bits) {
    if (!(bits & 1)) return;
    any = true;
    if (bits & 4) {
      lookalike = true;
    } else {
      other = true;
    }
  }
};

// Moves b[from, to) down to `write` (<= from) while the text is being compacted.
size_t MoveDown(Builder& b, size_t from, size_t to, size_t write) {
  if (write != from && to > from) {
    std::memmove(&b.text[write], &b.text[from], to - from);
    std::memmove(&b.origin[write], &b.origin[from], (to - from) * sizeof(uint32_t));
  }
  return write + (to - from);
}

// The first byte at or after `i` that a fold may have to look at: any non-ASCII byte
// (a look-alike letter, or a letter that makes digits in its word leetspeak), and the
// leetspeak characters when those fold. Plain ASCII words without them never change.
size_t NextFoldCandidate(const std::string& text, size_t i, bool leet) {
  const size_t n = text.size();
  if (!leet) {
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    while (i < n && static_cast<unsigned char>(text[i]) < 0x80) ++i;
    return i;
  }
#ifdef __SSE2__
  // Leetspeak characters are '0'..'7' except '2' and '6', '@' and '$'.
  const __m128i zero = _mm_set1_epi8('0'), seven = _mm_set1_epi8(7);
  const __m128i two = _mm_set1_epi8('2'), six = _mm_set1_epi8('6');
  const __m128i at = _mm_set1_epi8('@'), dollar = _mm_set1_epi8('$');
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    const __m128i d = _mm_sub_epi8(v, zero);
    const __m128i low_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, seven), d);
    const __m128i skipped = _mm_or_si128(_mm_cmpeq_epi8(v, two), _mm_cmpeq_epi8(v, six));
    const __m128i leet = _mm_or_si128(_mm_andnot_si128(skipped, low_digit),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, at), _mm_cmpeq_epi8(v, dollar)));
    const int mask = _mm_movemask_epi8(leet) | _mm_movemask_epi8(v);  // Or non-ASCII.
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
#endif
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (kAscii.bits[c] & kLeetByte)) break;
    ++i;
  }
  return i;
}

// Applies the per-word folds (homoglyphs, leetspeak) in place: replacements are never
// longer than what they replace, so the text is compacted as it is rewritten. Only the
// words around fold candidates are examined; the bytes between them are moved as blocks.
void FoldWordsInPlace(const NormalizeOptions& options, Builder& b) {
  const size_t n = b.text.size();
  const auto* bytes = reinterpret_cast<const uint8_t*>(b.text.data());
  size_t write = 0;
  size_t i = 0;  // Always at a word boundary; b[i, q) is ASCII without fold candidates.
  while (i < n) {
    const size_t q = NextFoldCandidate(b.text, i, options.fold_leetspeak);
    if (q >= n) {
      write = MoveDown(b, i, n, write);
      i = n;
      break;
    }
    const auto c = static_cast<unsigned char>(b.text[q]);
    size_t end = q + 1;
    NonAsciiLetters letters;
    if (c >= 0x80) {
      int32_t k = static_cast<int32_t>(q);
      UChar32 cp;
      U8_NEXT(bytes, k, static_cast<int32_t>(n), cp);
      end = static_cast<size_t>(k);
      if (!IsWordCodePoint(cp)) {  // Not part of a word: nothing to fold here.
        write = MoveDown(b, i, end, write);
        i = end;
        continue;
      }
      letters.Note(cp);
    } else if (!(kAscii.bits[c] & kWordByte)) {
      write = MoveDown(b, i, end, write);
      i = end;
      continue;
    }
    // The word containing q starts after the last ASCII non-word byte before it.
    size_t begin = q;
    uint8_t seen = c < 0x80 ? kAscii.bits[c] : 0;
    while (begin > i) {
      const uint8_t bits = kAscii.bits[static_cast<unsigned char>(b.text[begin - 1])];
      if (!(bits & kWordByte)) break;
      seen |= bits;
      --begin;
    }
    // Extend to the end of the word, noting what the folds would need to look at.
    while (end < n) {
      const auto d = static_cast<unsigned char>(b.text[end]);
      if (d < 0x80) {
        const uint8_t bits = kAscii.bits[d];
        if (!(bits & kWordByte)) break;
        seen |= bits;
        ++end;
        continue;
      }
      if ((d & 0xE0) == 0xC0 && end + 1 < n) {  // Two bytes (valid UTF-8): one lookup.
        const UChar32 cp = ((d & 0x1F) << 6) | (static_cast<unsigned char>(b.text[end + 1]) & 0x3F);
        const uint8_t bits = Classes().bits[cp];
        if (!(bits & 2)) break;
        letters.NoteClasses(bits);
        end += 2;
        continue;
      }
      int32_t k = static_cast<int32_t>(end);
      UChar32 cp;
      U8_NEXT(bytes, k, static_cast<int32_t>(n), cp);
      if (!IsWordCodePoint(cp)) break;
      letters.Note(cp);
      end = static_cast<size_t>(k);
    }
    write = MoveDown(b, i, begin, write);
    // The word's traits, gathered while finding its end.
    WordTraits traits;
    traits.has_ascii_letter = (seen & kLetterByte) != 0;
    traits.has_letter = traits.has_ascii_letter || letters.any;
    traits.has_leet = (seen & kLeetByte) != 0;
    traits.has_lookalike = letters.lookalike;
    traits.only_lookalikes = !letters.other;
    const bool changes = (options.fold_leetspeak && traits.has_letter && traits.has_leet) ||
                         (options.fold_homoglyphs && traits.has_lookalike &&
                          (traits.has_ascii_letter || traits.only_lookalikes));
    write = changes ? FoldWord(b, begin, end, traits, options, write)
                    : MoveDown(b, begin, end, write);
    i = end;
  }
  b.text.resize(write);
  b.origin.resize(write);
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
  const TwoByteTable& table = GetTwoByteTable(options.case_fold, options.remove_diacritics);

  Builder built;
  built.text.reserve(utf8.size());
  built.origin.reserve(utf8.size() + 1);
  size_t i = 0;
  const size_t n = utf8.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      // A run of ASCII is NFKC already; only case folds. Its last byte goes through the
      // segment path when a non-ASCII character follows (it may be a combining mark).
      size_t end = AsciiRunEnd(utf8, i);
      if (end < n && !StartsSegment(utf8, end, table, norm)) --end;
      if (end > i) {
        AppendAsciiRun(utf8, i, end, options.case_fold, built);
        i = end;
        continue;
      }
    } else if (const size_t run_end = AppendTwoByteRun(utf8, i, table, built); run_end != i) {
      i = run_end;
      continue;
    }
    absl::StatusOr<size_t> next = NormalizeSegment(utf8, i, norm, options, built);
    if (!next.ok()) return next.status();
    i = *next;
  }
  if (options.fold_homoglyphs || options.fold_leetspeak) FoldWordsInPlace(options, built);
  NormalizedText result;
  result.text = std::move(built.text);
  result.to_original = std::move(built.origin);
  result.to_original.push_back(static_cast<uint32_t>(n));
  return result;
}

}  // namespace warden::policies
