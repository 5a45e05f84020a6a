#include "model/tokenizer/pretokenizer.h"

#include <optional>

#include "model/tokenizer/char_class.h"

namespace warden::model {
namespace {

constexpr size_t kNoMatch = static_cast<size_t>(-1);

inline bool In(uint32_t set, CharClass c) { return (set & ClassBit(c)) != 0; }

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `pos`: returns the end of the suffix, or `pos`.
// Case folding matters only for ASCII letters and U+017F (long s, folds to `s`).
size_t MatchContraction(std::string_view t, size_t pos) {
  const size_t n = t.size();
  if (pos + 1 >= n || t[pos] != '\'') return pos;
  const char c1 = AsciiLower(t[pos + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
  if (pos + 2 < n && t[pos + 1] == '\xC5' && t[pos + 2] == '\xBF') return pos + 3;  // 'ſ
  if (pos + 2 >= n) return pos;
  const char c2 = AsciiLower(t[pos + 2]);
  if ((c1 == 'r' || c1 == 'v') && c2 == 'e') return pos + 3;
  if (c1 == 'l' && c2 == 'l') return pos + 3;
  return pos;
}

// End of the run of characters in `set` starting at `pos`.
size_t RunEnd(std::string_view t, size_t pos, uint32_t set) {
  while (pos < t.size()) {
    const Utf8Char c = DecodeCharAt(t, pos);
    if (!In(set, c.cls)) break;
    pos += c.length;
  }
  return pos;
}

// Alternative 1 after the optional prefix: `[upper-ish]*[lower-ish]+contraction?` at s.
// The upper-ish run is greedy and backs off to the last position where a lower-ish
// character can start; see the spec for why this reduces to the two cases below.
size_t MatchLowerTailWord(std::string_view t, size_t s) {
  size_t pos = s;
  size_t last_lowerish_end = kNoMatch;  // end of the last lower-ish char inside the run
  while (pos < t.size()) {
    const Utf8Char c = DecodeCharAt(t, pos);
    if (!In(kUpperish, c.cls)) break;
    pos += c.length;
    if (In(kLowerish, c.cls)) last_lowerish_end = pos;
  }
  size_t end;
  if (pos < t.size() && DecodeCharAt(t, pos).cls == CharClass::kLower) {
    end = RunEnd(t, pos, kLowerish);
  } else if (last_lowerish_end != kNoMatch) {
    end = last_lowerish_end;
  } else {
    return kNoMatch;
  }
  return MatchContraction(t, end);
}

// Alternative 2 after the optional prefix: `[upper-ish]+[lower-ish]*contraction?` at s.
size_t MatchUpperHeadWord(std::string_view t, size_t s) {
  const size_t upper_end = RunEnd(t, s, kUpperish);
  if (upper_end == s) return kNoMatch;
  return MatchContraction(t, RunEnd(t, upper_end, kLowerish));
}

// Alternatives 1 and 2 with the `[^\r\n\p{L}\p{N}]?` prefix tried first, in regex order.
size_t MatchWord(std::string_view t, size_t i, const Utf8Char& c0) {
  const bool has_prefix = In(kWordPrefix, c0.cls) && i + c0.length < t.size();
  const bool starts_word = In(kUpperish | kLowerish, c0.cls);
  size_t end = kNoMatch;
  if (has_prefix) end = MatchLowerTailWord(t, i + c0.length);
  if (end == kNoMatch && starts_word) end = MatchLowerTailWord(t, i);
  if (end == kNoMatch && has_prefix) end = MatchUpperHeadWord(t, i + c0.length);
  if (end == kNoMatch && starts_word) end = MatchUpperHeadWord(t, i);
  return end;
}

// Alternative 3: `\p{N}{1,3}`.
size_t MatchNumber(std::string_view t, size_t i) {
  size_t pos = i;
  for (int k = 0; k < 3 && pos < t.size(); ++k) {
    const Utf8Char c = DecodeCharAt(t, pos);
    if (c.cls != CharClass::kNumber) break;
    pos += c.length;
  }
  return pos;
}

// Alternative 4: ` ?[^\s\p{L}\p{N}]+[\r\n/]*`.
size_t MatchPunctuation(std::string_view t, size_t i, const Utf8Char& c0) {
  size_t start = kNoMatch;
  if (t[i] == ' ' && i + 1 < t.size() && In(kPunct, DecodeCharAt(t, i + 1).cls)) {
    start = i + 1;
  } else if (In(kPunct, c0.cls)) {
    start = i;
  }
  if (start == kNoMatch) return kNoMatch;
  size_t pos = RunEnd(t, start, kPunct);
  while (pos < t.size() && (t[pos] == '\r' || t[pos] == '\n' || t[pos] == '/')) ++pos;
  return pos;
}

// Alternatives 5–7 for a whitespace run starting at i.
size_t MatchWhitespace(std::string_view t, size_t i) {
  size_t pos = i;
  size_t last_newline_end = kNoMatch;
  size_t last_char_start = i;
  size_t num_chars = 0;
  while (pos < t.size()) {
    const Utf8Char c = DecodeCharAt(t, pos);
    if (!In(kWhitespace, c.cls)) break;
    last_char_start = pos;
    pos += c.length;
    ++num_chars;
    if (c.cls == CharClass::kNewline) last_newline_end = pos;
  }
  if (last_newline_end != kNoMatch) return last_newline_end;  // \s*[\r\n]+
  if (pos == t.size()) return pos;                            // \s+(?!\S) at the end
  if (num_chars > 1) return last_char_start;                  // \s+(?!\S), backed off
  return pos;                                                 // \s+
}

}  // namespace

size_t NextPieceEnd(std::string_view t, size_t i) {
  const Utf8Char c0 = DecodeCharAt(t, i);
  size_t end = MatchWord(t, i, c0);
  if (end != kNoMatch) return end;
  if (c0.cls == CharClass::kNumber) return MatchNumber(t, i);
  end = MatchPunctuation(t, i, c0);
  if (end != kNoMatch) return end;
  if (In(kWhitespace, c0.cls)) return MatchWhitespace(t, i);
  return i + c0.length;  // unreachable for well-formed classes; keeps progress guaranteed
}

std::vector<std::string_view> SplitPieces(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = NextPieceEnd(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace warden::model
