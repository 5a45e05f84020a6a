#include "policies/spaced_letters.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <string_view>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace warden::policies {
namespace {

bool IsSpacer(char c) { return std::string_view(" .-_*/|").find(c) != std::string_view::npos; }

// A token of the text: a maximal run of letters/digits (word) or of anything else.
struct Token {
  size_t begin;
  size_t end;
  bool word;
  bool single_letter;  // A word of exactly one letter.
  bool single_leet;    // A word of exactly one leetspeak digit.
};

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 cp;
    U8_NEXT(bytes, i, length, cp);
    const bool word = cp >= 0 && u_isalnum(cp);
    int chars = 1;
    bool letter = cp >= 0 && u_isalpha(cp);
    while (i < length) {
      int32_t next = i;
      UChar32 c2;
      U8_NEXT(bytes, next, length, c2);
      if ((c2 >= 0 && u_isalnum(c2)) != word) break;
      ++chars;
      i = next;
    }
    const bool single = word && chars == 1;
    tokens.push_back({static_cast<size_t>(start), static_cast<size_t>(i), word, single && letter,
                      single && cp < 0x80 && !letter && LeetToLetter(static_cast<char>(cp)) != 0});
  }
  return tokens;
}

bool IsShortSpacerRun(std::string_view text, const Token& t) {
  if (t.word || t.end - t.begin > 2) return false;
  for (size_t k = t.begin; k < t.end; ++k) {
    if (!IsSpacer(text[k])) return false;
  }
  return true;
}

bool InRun(const Token& t) { return t.single_letter || t.single_leet; }

// The end (exclusive token index) of the spaced-letter run starting at token `i` (one
// letter or leetspeak digit, then more separated by short spacer runs); `letters` counts
// its real letters.
size_t RunEnd(std::string_view text, const std::vector<Token>& tokens, size_t i, int* letters) {
  size_t j = i;
  *letters = tokens[i].single_letter ? 1 : 0;
  while (j + 2 < tokens.size() && IsShortSpacerRun(text, tokens[j + 1]) && InRun(tokens[j + 2])) {
    j += 2;
    if (tokens[j].single_letter) ++*letters;
  }
  return j + 1;
}

// Byte classes for the pre-check: word bytes (ASCII letters and digits, and every byte
// of a non-ASCII character), spacers, and the rest.
enum ByteClass : uint8_t { kOtherByte = 0, kWordByte = 1, kSpacerByte = 2 };

struct ByteClasses {
  uint8_t of[256];
  ByteClasses() : of{} {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
      of[c] = c >= 0x80 || alnum ? kWordByte : IsSpacer(static_cast<char>(c)) ? kSpacerByte
                                                                              : kOtherByte;
    }
  }
};

const ByteClasses& Classes() {
  static const ByteClasses classes;
  return classes;
}

// A cheap byte-level test: is there a run of three one-character words separated by
// short spacer runs? Non-ASCII bytes count as word characters, so it may say yes wrongly
// but never no wrongly.
bool MayHaveSpacedRunScalar(std::string_view text) {
  const ByteClasses& classes = Classes();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  int singles = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    if (classes.of[bytes[i]] == kWordByte) {
      // One character: the lead byte and its continuation bytes only.
      while (j < n && (bytes[j] & 0xC0) == 0x80) ++j;
      const bool single = j >= n || classes.of[bytes[j]] != kWordByte;
      while (j < n && classes.of[bytes[j]] == kWordByte) ++j;
      singles = single ? singles + 1 : 0;
      if (singles >= 3) return true;
    } else {
      bool spacers = classes.of[bytes[i]] == kSpacerByte;
      while (j < n && classes.of[bytes[j]] != kWordByte) {
        spacers = spacers && classes.of[bytes[j]] == kSpacerByte;
        ++j;
      }
      if (!spacers || j - i > 2) singles = 0;
    }
    i = j;
  }
  return false;
}

// The longest run MayHaveSpacedRunScalar looks for: three characters of up to 4 bytes,
// two spacer runs of up to 2 bytes, and the byte after the last character.
constexpr size_t kSpacedRunWindow = 3 * 4 + 2 * 2 + 1;

// True when MayHaveSpacedRunScalar finds a run that starts with the word at `p`.
bool SpacedRunAt(std::string_view text, size_t p) {
  return MayHaveSpacedRunScalar(text.substr(p, kSpacedRunWindow));
}

#ifdef __SSE2__
// Word bytes as the pre-check sees them: ASCII letters and digits, and non-ASCII bytes.
__m128i WordBytes(__m128i v) {
  const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
  const __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
  const __m128i alpha = _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(25)), a);
  const __m128i high = _mm_cmplt_epi8(v, _mm_setzero_si128());
  return _mm_or_si128(_mm_or_si128(digit, alpha), high);
}
#endif

// MayHaveSpacedRunScalar, sixteen bytes at a time: a run starts with a one-character
// word, so only the words that start where the next byte is not a word byte (or with a
// non-ASCII byte: the character may be longer than one byte) are checked, each over a short window; every run
// begins at such a word and the scalar check from there finds it.
bool MayHaveSpacedRun(std::string_view text) {
#ifdef __SSE2__
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (n < 18) return MayHaveSpacedRunScalar(text);
  if (SpacedRunAt(text, 0)) return true;
  size_t i = 1;
  for (; i + 17 <= n; i += 16) {
    const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i - 1));
    const __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i + 1));
    const __m128i high = _mm_cmplt_epi8(cur, _mm_setzero_si128());
    const __m128i starts = _mm_andnot_si128(WordBytes(prev), WordBytes(cur));
    const __m128i next_not_word = _mm_xor_si128(WordBytes(next), _mm_set1_epi8(-1));
    const __m128i single = _mm_and_si128(starts, _mm_or_si128(next_not_word, high));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(single));
    while (mask != 0) {
      const size_t p = i + static_cast<size_t>(__builtin_ctz(mask));
      if (SpacedRunAt(text, p)) return true;
      mask &= mask - 1;
    }
  }
  // The tail: every word start from i on (a start at i - 1 or before was checked).
  const ByteClasses& classes = Classes();
  for (; i < n; ++i) {
    if (classes.of[bytes[i]] == kWordByte && classes.of[bytes[i - 1]] != kWordByte &&
        SpacedRunAt(text, i)) {
      return true;
    }
  }
  return false;
#else
  return MayHaveSpacedRunScalar(text);
#endif
}

}  // namespace

std::optional<NormalizedText> CollapseSpacedLetters(const NormalizedText& in) {
  if (!MayHaveSpacedRun(in.text)) return std::nullopt;
  const std::vector<Token> tokens = Tokenize(in.text);
  NormalizedText out;
  bool changed = false;
  for (size_t i = 0; i < tokens.size();) {
    const Token& t = tokens[i];
    size_t end = i + 1;
    if (InRun(t)) {
      int letters = 0;
      end = RunEnd(in.text, tokens, i, &letters);
      // Fewer than three characters, or fewer than two of them letters: not a run.
      if ((end - i + 1) / 2 < 3 || letters < 2) end = i + 1;
    }
    const bool run = end > i + 1;
    for (size_t k = i; k < end; ++k) {
      if (run && !tokens[k].word) {
        changed = true;
        continue;
      }
      if (run && tokens[k].single_leet) {
        out.text.push_back(LeetToLetter(in.text[tokens[k].begin]));
        out.to_original.push_back(in.to_original[tokens[k].begin]);
        continue;
      }
      out.text.append(in.text, tokens[k].begin, tokens[k].end - tokens[k].begin);
      out.to_original.insert(out.to_original.end(), in.to_original.begin() + tokens[k].begin,
                             in.to_original.begin() + tokens[k].end);
    }
    i = end;
  }
  if (!changed) return std::nullopt;
  out.to_original.push_back(in.to_original.back());
  return out;
}

}  // namespace warden::policies
