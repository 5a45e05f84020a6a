#include "policies/redaction.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "base/sha256.h"
#include "policies/string_view_compat.h"

namespace warden::policies {

Redactor::Redactor(const v1::Redaction& config, std::string_view entity_type, std::string key)
    : style_(config.style() == v1::Redaction::STYLE_UNSPECIFIED ? v1::Redaction::PLACEHOLDER
                                                                 : config.style()),
      placeholder_(config.placeholder().empty() ? absl::StrCat("[", ToAbsl(entity_type), "]")
                                                : config.placeholder()),
      entity_type_(entity_type),
      keep_last_(config.mask_keep_last() == 0 ? 4 : config.mask_keep_last()),
      key_(std::move(key)) {}

std::string Redactor::Replace(std::string_view original) const {
  std::string out;
  AppendReplacement(original, &out);
  return out;
}

void Redactor::AppendReplacement(std::string_view original, std::string* out) const {
  switch (style_) {
    case v1::Redaction::MASK: {
      // Keep the last `keep_last_` characters (code points), star out the rest; a value no
      // longer than that is starred out completely rather than shown.
      size_t characters = 0;
      for (char c : original) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      const size_t masked = characters > keep_last_ ? characters - keep_last_ : characters;
      out->append(masked, '*');
      if (masked == characters) return;
      // The byte where character number `masked` starts.
      size_t seen = 0;
      for (size_t i = 0; i < original.size(); ++i) {
        if ((static_cast<unsigned char>(original[i]) & 0xC0) == 0x80) continue;
        if (seen++ == masked) {
          out->append(original.substr(i));
          return;
        }
      }
      return;
    }
    case v1::Redaction::KEYED_HASH:
      absl::StrAppend(out, "[", entity_type_, ":", ToHex(HmacSha256(key_, original)).substr(0, 16), "]");
      return;
    default:
      out->append(placeholder_);
      return;
  }
}

}  // namespace warden::policies
