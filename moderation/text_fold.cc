#include "moderation/text_fold.h"

#include <string>
#include <utility>

#include "policies/normalizer.h"

namespace warden::moderation {
namespace {

// Length of the invisible character starting at `s[i]`, or 0. Recognised: U+00AD (soft
// hyphen), U+200B..U+200F (zero-width space/joiners, direction marks), U+2060 (word
// joiner), U+FEFF (BOM / zero-width no-break space).
size_t InvisibleLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  if (i + 1 < s.size() && byte(i) == 0xC2 && byte(i + 1) == 0xAD) return 2;
  if (i + 2 >= s.size()) return 0;
  const unsigned char b0 = byte(i), b1 = byte(i + 1), b2 = byte(i + 2);
  if (b0 == 0xE2 && b1 == 0x80 && b2 >= 0x8B && b2 <= 0x8F) return 3;
  if (b0 == 0xE2 && b1 == 0x81 && b2 == 0xA0) return 3;
  if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) return 3;
  return 0;
}

bool IsAsciiSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ASCII lower-casing, invisible-character removal and whitespace collapsing.
std::string FoldBytes(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  for (size_t i = 0; i < utf8.size();) {
    if (const size_t skip = InvisibleLength(utf8, i); skip > 0) {
      i += skip;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(utf8[i++]);
    if (IsAsciiSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
  }
  return out;
}

bool IsAsciiLetter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(unsigned char c) { return IsAsciiLetter(c) || (c >= '0' && c <= '9'); }

constexpr std::string_view kEuro = "\xE2\x82\xAC";

// The letter a symbol at token[i] stands for, and how many bytes it takes; {0, 0} when it
// stays. Only called inside tokens that hold an ASCII letter.
std::pair<char, size_t> SymbolLetter(std::string_view token, size_t i) {
  const auto letter_like = [&](size_t k) {
    if (k >= token.size()) return false;
    const unsigned char c = static_cast<unsigned char>(token[k]);
    return IsAsciiAlnum(c) || c == '|' || c == '$' || c == '@' || c == '/' || c == '\\' || c == '!' || c == '(' ||
           token.substr(k, kEuro.size()) == kEuro || (k >= 2 && token.substr(k - 2, kEuro.size()) == kEuro);
  };
  if (token.substr(i, 2) == "/\\") return {'a', 2};
  if (token.substr(i, kEuro.size()) == kEuro) return {'e', kEuro.size()};
  const char c = token[i];
  if (c == '|') return {'l', 1};
  // "!!" is emphasis, not a letter: a "!" followed by another stays.
  const bool inside = i > 0 && letter_like(i - 1) && letter_like(i + 1) && !(c == '!' && token[i + 1] == '!');
  if ((c == '!' || c == '(') && inside) return {c == '!' ? 'i' : 'c', 1};
  return {0, 0};
}

// Folds look-alike symbols inside runs of non-space characters that hold an ASCII letter.
// Runs without a symbol that may fold are copied whole (most text has none).
std::string FoldSymbols(std::string_view text) {
  constexpr std::string_view kTriggers = "/|!(\xE2";
  if (text.find_first_of(kTriggers) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t begin = 0; begin < text.size();) {
    size_t end = begin;
    while (end < text.size() && IsAsciiSpace(static_cast<unsigned char>(text[end]))) ++end;
    out.append(text.substr(begin, end - begin));
    begin = end;
    bool has_letter = false;
    while (end < text.size() && !IsAsciiSpace(static_cast<unsigned char>(text[end]))) {
      has_letter = has_letter || IsAsciiLetter(static_cast<unsigned char>(text[end]));
      ++end;
    }
    const std::string_view token = text.substr(begin, end - begin);
    begin = end;
    if (!has_letter || token.find_first_of(kTriggers) == std::string_view::npos) {
      out.append(token);
      continue;
    }
    for (size_t i = 0; i < token.size();) {
      const auto [letter, length] = SymbolLetter(token, i);
      if (length == 0) {
        out.push_back(token[i++]);
      } else {
        out.push_back(letter);
        i += length;
      }
    }
  }
  return out;
}

bool IsSpellingSeparator(char c) {
  return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*' || c == ',' || c == '+';
}

// Appends word with every run of three or more of the same letter reduced to one letter.
void AppendCollapsingRepeats(std::string_view word, std::string* out) {
  for (size_t i = 0; i < word.size();) {
    size_t end = i + 1;
    while (end < word.size() && word[end] == word[i]) ++end;
    out->append(end - i >= 3 ? 1 : end - i, word[i]);
    i = end;
  }
}

bool HasTripleLetter(std::string_view word) {
  for (size_t i = 2; i < word.size(); ++i) {
    if (word[i] == word[i - 1] && word[i] == word[i - 2]) return true;
  }
  return false;
}

// One pass over folded text, word by word (runs of ASCII letters):
//  - three or more single letters separated by one separator, the same one throughout, join:
//    "k i l l" -> "kill", "k.i.l.l k-i-l-l" -> "kill kill" (words spelled out with spaces one
//    after another join into one, "t h e c a t" -> "thecat": the spaces cannot say where one
//    ends);
//  - a run of three or more of the same letter becomes one letter ("stuuupid" -> "stupid").
std::string JoinLettersAndCollapseRepeats(std::string_view s) {
  const auto letter = [&](size_t k) { return k < s.size() && IsAsciiLetter(static_cast<unsigned char>(s[k])); };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (!letter(i)) {
      out.push_back(s[i++]);
      continue;
    }
    size_t end = i + 1;
    while (letter(end)) ++end;
    if (end == i + 1) {  // a single letter: the start of a spelled-out word?
      size_t last = i, count = 1;
      const char separator = end < s.size() ? s[end] : 0;
      while (last + 2 < s.size() && IsSpellingSeparator(s[last + 1]) && s[last + 1] == separator && letter(last + 2) &&
             !letter(last + 3)) {
        last += 2;
        ++count;
      }
      if (count >= 3) {
        std::string word;
        for (size_t k = i; k <= last; k += 2) word.push_back(s[k]);
        AppendCollapsingRepeats(word, &out);
        i = last + 1;
        continue;
      }
    }
    const std::string_view word = s.substr(i, end - i);
    if (HasTripleLetter(word)) {
      AppendCollapsingRepeats(word, &out);
    } else {
      out.append(word);
    }
    i = end;
  }
  return out;
}

}  // namespace

std::string FoldText(std::string_view utf8, uint32_t version) {
  if (version < 3) {
    const absl::StatusOr<warden::policies::NormalizedText> normalized = warden::policies::Normalize(utf8);
    // FoldBytes still collapses whitespace of the normalised text (a no-op otherwise).
    return normalized.ok() ? FoldBytes(normalized->text) : FoldBytes(utf8);
  }
  const std::string symbols = FoldSymbols(utf8);
  warden::policies::NormalizeOptions options;
  options.remove_diacritics = true;
  const absl::StatusOr<warden::policies::NormalizedText> normalized = warden::policies::Normalize(symbols, options);
  const std::string folded = normalized.ok() ? FoldBytes(normalized->text) : FoldBytes(symbols);
  return JoinLettersAndCollapseRepeats(folded);
}

}  // namespace warden::moderation
