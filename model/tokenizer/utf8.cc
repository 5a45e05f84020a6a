#include "model/tokenizer/utf8.h"

#include <cstdint>

namespace warden::model {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the sequence that lead byte `b` announces (0 if it cannot start one), and
// the allowed range of the second byte (stricter than 80..BF for E0, ED, F0, F4).
struct LeadInfo {
  int length;
  unsigned char second_lo;
  unsigned char second_hi;
};

LeadInfo Lead(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// At `pos`: sets *valid_len to the sequence length if a complete well-formed sequence
// starts there (returns true); otherwise returns false and sets *valid_len to the length
// of its maximal valid prefix (>= 1 byte is replaced) and *truncated to whether that
// prefix ran into the end of the input rather than a bad byte.
bool ScanSequence(const unsigned char* s, size_t n, size_t pos, size_t* valid_len,
                  bool* truncated) {
  const LeadInfo info = Lead(s[pos]);
  *truncated = false;
  if (info.length == 0) {
    *valid_len = 1;
    return false;
  }
  for (int k = 1; k < info.length; ++k) {
    if (pos + k >= n) {
      *valid_len = k;
      *truncated = true;
      return false;
    }
    const unsigned char b = s[pos + k];
    const unsigned char lo = k == 1 ? info.second_lo : 0x80;
    const unsigned char hi = k == 1 ? info.second_hi : 0xBF;
    if (b < lo || b > hi) {
      *valid_len = k;
      return false;
    }
  }
  *valid_len = static_cast<size_t>(info.length);
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (s[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t len;
    bool truncated;
    if (!ScanSequence(s, bytes.size(), pos, &len, &truncated)) return false;
    pos += len;
  }
  return true;
}

size_t AppendUtf8Lossy(std::string_view bytes, bool at_end, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t pos = 0;
  size_t run_start = 0;  // start of a pending run of valid bytes not yet appended
  while (pos < n) {
    if (s[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t len;
    bool truncated;
    if (ScanSequence(s, n, pos, &len, &truncated)) {
      pos += len;
      continue;
    }
    out->append(bytes.substr(run_start, pos - run_start));
    if (truncated && !at_end) return pos;  // may still be completed by more bytes
    out->append(kReplacement);
    pos += len;
    run_start = pos;
  }
  out->append(bytes.substr(run_start, n - run_start));
  return n;
}

std::string Utf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  AppendUtf8Lossy(bytes, /*at_end=*/true, &out);
  return out;
}

}  // namespace warden::model
