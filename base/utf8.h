// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. Pure functions; thread-safe.
#ifndef WARDEN_BASE_UTF8_H_
#define WARDEN_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace warden {

// Returns the byte offset of the first invalid sequence, or text.size() when valid.
size_t FirstInvalidUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) { return FirstInvalidUtf8(text) == text.size(); }

// The largest offset <= `pos` (and <= text.size()) that does not fall inside a UTF-8
// character: where a prefix of `text` may end without cutting one.
inline size_t Utf8BoundaryAtOrBefore(std::string_view text, size_t pos) {
  if (pos >= text.size()) return text.size();
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

}  // namespace warden

#endif  // WARDEN_BASE_UTF8_H_
