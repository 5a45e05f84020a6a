#include "moderation/text_fold.h"

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

}  // namespace

std::string FoldText(std::string_view utf8) {
  const absl::StatusOr<warden::policies::NormalizedText> normalized =
      warden::policies::Normalize(utf8);
  // FoldBytes still collapses whitespace of the normalised text (a no-op otherwise).
  return normalized.ok() ? FoldBytes(normalized->text) : FoldBytes(utf8);
}

}  // namespace warden::moderation
