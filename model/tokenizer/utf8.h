// UTF-8 validation and lossy decoding with the WHATWG / Unicode "maximal subpart" rule:
// each maximal prefix of a well-formed sequence that cannot be completed, and each byte
// that cannot start one, becomes one U+FFFD. Stateless; thread-safe.
#ifndef WARDEN_MODEL_TOKENIZER_UTF8_H_
#define WARDEN_MODEL_TOKENIZER_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace warden::model {

// True if `bytes` is well-formed UTF-8 (no surrogates, no overlongs, <= U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Appends the lossy decoding of `bytes` to `out`. If `at_end` is false, a trailing
// incomplete sequence that could still become valid is not decoded; the return value is
// the number of bytes consumed (the caller keeps the rest for the next call). With
// `at_end` true everything is consumed.
size_t AppendUtf8Lossy(std::string_view bytes, bool at_end, std::string* out);

// Lossy decoding of the whole byte string.
std::string Utf8Lossy(std::string_view bytes);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_UTF8_H_
