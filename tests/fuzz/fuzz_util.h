// Helpers shared by the fuzzers: an invariant check that aborts (so libFuzzer and the
// regression driver both report it with the input) and the byte-to-token-id encoding
// used by the fuzzers whose input is a sequence of ids.
//
// Header-only; stateless; thread-safe.
#ifndef WARDEN_TESTS_FUZZ_FUZZ_UTIL_H_
#define WARDEN_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

// Aborts with a message when `condition` is false. Fuzzers check the documented contracts
// of the code under test with this, never with assert() (compiled out under NDEBUG).
#define FUZZ_CHECK(condition, message)                                                   \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__,     \
                   #condition, std::string_view(message).data());                        \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace warden::fuzz {

// Byte-level id encoding, chosen so that mutations mostly produce plausible ids:
//   0x00..0xBF  the id equal to the byte (o200k's single-byte tokens live below 256);
//   0xC0..0xDF  entry (byte - 0xC0) of `specials` (harmony special tokens, ids just past
//               the vocabulary, ...); ignored when the table is shorter;
//   0xE0..0xFF  followed by three bytes: a big-endian 24-bit id (any ordinary id, and
//               ids far outside the vocabulary). A truncated escape at the end is dropped.
inline std::vector<uint32_t> DecodeIds(const uint8_t* data, size_t size,
                                       const std::vector<uint32_t>& specials) {
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t b = data[i];
    if (b < 0xC0) {
      ids.push_back(b);
    } else if (b < 0xE0) {
      if (static_cast<size_t>(b - 0xC0) < specials.size()) ids.push_back(specials[b - 0xC0]);
    } else {
      if (i + 3 >= size) break;
      ids.push_back((uint32_t{data[i + 1]} << 16) | (uint32_t{data[i + 2]} << 8) | data[i + 3]);
      i += 3;
    }
  }
  return ids;
}

}  // namespace warden::fuzz

#endif  // WARDEN_TESTS_FUZZ_FUZZ_UTIL_H_
