// Character classes used by the o200k pre-tokenizer (spec: shared/spec/o200k-tokenizer.md §3).
//
// The pre-tokenizer pattern only distinguishes a handful of Unicode properties; this header
// folds general category and the White_Space property into one small enum so the scanner
// can test set membership with a bit mask. Stateless functions; thread-safe (the lookup
// table for the Basic Multilingual Plane is built once, on first use, under the C++
// static-initialisation guarantee).
#ifndef WARDEN_MODEL_TOKENIZER_CHAR_CLASS_H_
#define WARDEN_MODEL_TOKENIZER_CHAR_CLASS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warden::model {

// Disjoint classes. Every code point belongs to exactly one.
enum class CharClass : uint8_t {
  kUpper = 0,    // Lu, Lt
  kLower,        // Ll
  kLetterOther,  // Lm, Lo (count as both upper-ish and lower-ish)
  kMark,         // Mn, Mc, Me (upper-ish, lower-ish, and not a letter)
  kNumber,       // Nd, Nl, No
  kNewline,      // CR, LF
  kSpace,        // White_Space other than CR and LF (incl. U+0085, U+00A0, U+3000, ...)
  kOther,        // everything else (punctuation, symbols, emoji, controls, format, ...)
};

// Bit masks over CharClass for the sets the pattern uses.
inline constexpr uint32_t ClassBit(CharClass c) { return 1u << static_cast<uint32_t>(c); }
// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`
inline constexpr uint32_t kUpperish =
    ClassBit(CharClass::kUpper) | ClassBit(CharClass::kLetterOther) | ClassBit(CharClass::kMark);
// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
inline constexpr uint32_t kLowerish =
    ClassBit(CharClass::kLower) | ClassBit(CharClass::kLetterOther) | ClassBit(CharClass::kMark);
// `[^\r\n\p{L}\p{N}]`: the optional prefix character of a word.
inline constexpr uint32_t kWordPrefix =
    ClassBit(CharClass::kSpace) | ClassBit(CharClass::kMark) | ClassBit(CharClass::kOther);
// `[^\s\p{L}\p{N}]`: punctuation-run characters.
inline constexpr uint32_t kPunct = ClassBit(CharClass::kMark) | ClassBit(CharClass::kOther);
// `\s`
inline constexpr uint32_t kWhitespace = ClassBit(CharClass::kSpace) | ClassBit(CharClass::kNewline);

// Class of one code point (any value; values above U+10FFFF are kOther).
CharClass ClassifyCodePoint(uint32_t cp);

// One character of a UTF-8 string.
struct Utf8Char {
  uint32_t cp;     // code point; an undecodable byte is reported as its byte value + 0x110000
  uint8_t length;  // bytes consumed, 1..4 (an invalid byte counts as a 1-byte character)
  CharClass cls;
};

// Decodes the character starting at `pos` (< text.size()). Invalid UTF-8 never fails: each
// byte that does not start a well-formed sequence is one character of class kOther.
Utf8Char DecodeCharAt(std::string_view text, size_t pos);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_CHAR_CLASS_H_
