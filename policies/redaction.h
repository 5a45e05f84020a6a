// How one rule rewrites a REDACT finding: typed placeholder, partial mask or keyed hash.
// Immutable after construction; thread-safe.
#ifndef WARDEN_POLICIES_REDACTION_H_
#define WARDEN_POLICIES_REDACTION_H_

#include <string>
#include <string_view>

#include "proto/policy.pb.h"

namespace warden::policies {

class Redactor {
 public:
  Redactor() = default;
  // `key` is the resolved KEYED_HASH key (from hash_key or hash_key_env).
  Redactor(const v1::Redaction& config, std::string_view entity_type, std::string key);

  // The replacement for `original` (the matched bytes of the original text).
  std::string Replace(std::string_view original) const;
  // Appends Replace(original) to `out` without a temporary string.
  void AppendReplacement(std::string_view original, std::string* out) const;

 private:
  v1::Redaction::Style style_ = v1::Redaction::PLACEHOLDER;
  std::string placeholder_ = "[REDACTED]";
  std::string entity_type_ = "REDACTED";
  uint32_t keep_last_ = 4;
  std::string key_;
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_REDACTION_H_
