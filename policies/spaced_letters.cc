#include "policies/spaced_letters.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <string_view>
#include <vector>

namespace warden::policies {
namespace {

bool IsSpacer(char c) { return std::string_view(" .-_*/|").find(c) != std::string_view::npos; }

// A token of the text: a maximal run of letters/digits (word) or of anything else.
struct Token {
  size_t begin;
  size_t end;
  bool word;
  bool single_letter;  // A word of exactly one letter.
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
    tokens.push_back({static_cast<size_t>(start), static_cast<size_t>(i), word,
                      word && chars == 1 && letter});
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

// The end (exclusive token index) of the spaced-letter run starting at token `i`.
size_t RunEnd(std::string_view text, const std::vector<Token>& tokens, size_t i) {
  size_t j = i;
  while (j + 2 < tokens.size() && IsShortSpacerRun(text, tokens[j + 1]) &&
         tokens[j + 2].single_letter) {
    j += 2;
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
const ByteClasses kClasses;

// A cheap byte-level test that rules out most texts: is there a run of three
// one-character words separated by short spacer runs? Non-ASCII bytes count as word
// characters, so it may say yes wrongly but never no wrongly.
bool MayHaveSpacedRun(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  int singles = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    if (kClasses.of[bytes[i]] == kWordByte) {
      // One character: the lead byte and its continuation bytes only.
      while (j < n && (bytes[j] & 0xC0) == 0x80) ++j;
      const bool single = j >= n || kClasses.of[bytes[j]] != kWordByte;
      while (j < n && kClasses.of[bytes[j]] == kWordByte) ++j;
      singles = single ? singles + 1 : 0;
      if (singles >= 3) return true;
    } else {
      bool spacers = kClasses.of[bytes[i]] == kSpacerByte;
      while (j < n && kClasses.of[bytes[j]] != kWordByte) {
        spacers = spacers && kClasses.of[bytes[j]] == kSpacerByte;
        ++j;
      }
      if (!spacers || j - i > 2) singles = 0;
    }
    i = j;
  }
  return false;
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
    if (t.single_letter) {
      end = RunEnd(in.text, tokens, i);
      if ((end - i + 1) / 2 < 3) end = i + 1;  // Fewer than three letters: not a run.
    }
    for (size_t k = i; k < end; ++k) {
      const bool drop = end > i + 1 && !tokens[k].word;
      if (drop) {
        changed = true;
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
