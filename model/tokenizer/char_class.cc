#include "model/tokenizer/char_class.h"

#include <array>

#include "unicode/uchar.h"

namespace warden::model {
namespace {

CharClass ClassifyWithIcu(uint32_t cp) {
  const UChar32 c = static_cast<UChar32>(cp);
  if (cp == '\r' || cp == '\n') return CharClass::kNewline;
  if (u_isUWhiteSpace(c)) return CharClass::kSpace;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_TITLECASE_LETTER:
      return CharClass::kUpper;
    case U_LOWERCASE_LETTER:
      return CharClass::kLower;
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CharClass::kLetterOther;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
      return CharClass::kMark;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CharClass::kNumber;
    default:
      return CharClass::kOther;
  }
}

// The BMP covers almost all text; a 64 KiB table avoids an ICU call per character.
const std::array<CharClass, 0x10000>& BmpTable() {
  static const auto* table = [] {
    auto* t = new std::array<CharClass, 0x10000>();
    for (uint32_t cp = 0; cp < 0x10000; ++cp) (*t)[cp] = ClassifyWithIcu(cp);
    return t;
  }();
  return *table;
}

inline bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

CharClass ClassifyCodePoint(uint32_t cp) {
  if (cp < 0x10000) return BmpTable()[cp];
  if (cp > 0x10FFFF) return CharClass::kOther;
  return ClassifyWithIcu(cp);
}

Utf8Char DecodeCharAt(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char b0 = s[pos];
  const Utf8Char invalid{b0 + 0x110000u, 1, CharClass::kOther};
  if (b0 < 0x80) return {b0, 1, BmpTable()[b0]};
  if (b0 < 0xC2) return invalid;
  if (b0 < 0xE0) {
    if (pos + 1 >= n || !IsContinuation(s[pos + 1])) return invalid;
    const uint32_t cp = ((b0 & 0x1Fu) << 6) | (s[pos + 1] & 0x3Fu);
    return {cp, 2, BmpTable()[cp]};
  }
  if (b0 < 0xF0) {
    if (pos + 2 >= n || !IsContinuation(s[pos + 1]) || !IsContinuation(s[pos + 2])) {
      return invalid;
    }
    const uint32_t cp = ((b0 & 0x0Fu) << 12) | ((s[pos + 1] & 0x3Fu) << 6) | (s[pos + 2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return invalid;
    return {cp, 3, BmpTable()[cp]};
  }
  if (b0 < 0xF5) {
    if (pos + 3 >= n || !IsContinuation(s[pos + 1]) || !IsContinuation(s[pos + 2]) ||
        !IsContinuation(s[pos + 3])) {
      return invalid;
    }
    const uint32_t cp = ((b0 & 0x07u) << 18) | ((s[pos + 1] & 0x3Fu) << 12) |
                        ((s[pos + 2] & 0x3Fu) << 6) | (s[pos + 3] & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return invalid;
    return {cp, 4, ClassifyWithIcu(cp)};
  }
  return invalid;
}

}  // namespace warden::model
