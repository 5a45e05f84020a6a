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
  switch (style_) {
    case v1::Redaction::MASK: {
      // Keep the last `keep_last_` characters (code points), star out the rest; a value no
      // longer than that is starred out completely rather than shown.
      std::vector<size_t> starts;
      for (size_t i = 0; i < original.size(); ++i) {
        if ((static_cast<unsigned char>(original[i]) & 0xC0) != 0x80) starts.push_back(i);
      }
      const size_t masked = starts.size() > keep_last_ ? starts.size() - keep_last_ : starts.size();
      std::string out(masked, '*');
      if (masked < starts.size()) out.append(original.substr(starts[masked]));
      return out;
    }
    case v1::Redaction::KEYED_HASH:
      return absl::StrCat("[", entity_type_, ":", ToHex(HmacSha256(key_, original)).substr(0, 16),
                          "]");
    default:
      return placeholder_;
  }
}

}  // namespace warden::policies
