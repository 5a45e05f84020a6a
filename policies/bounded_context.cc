#include "policies/bounded_context.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policies/string_view_compat.h"
#include "re2/re2.h"

namespace warden::policies {
namespace {

size_t Utf8LengthOfLead(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

absl::StatusOr<std::bitset<128>> AsciiClass(std::string_view class_body) {
  RE2 inside(absl::StrCat("[", ToAbsl(class_body), "]"));
  if (class_body.empty() || !inside.ok()) {
    return absl::InternalError(absl::StrCat("bad class [", ToAbsl(class_body), "]"));
  }
  std::bitset<128> set;
  for (int c = 0; c < 128; ++c) set[c] = RE2::FullMatch(std::string(1, static_cast<char>(c)), inside);
  return set;
}

}  // namespace

absl::StatusOr<BoundedContext> BoundedContext::ForPattern(std::string_view pattern,
                                                          const ContextBounds& bounds) {
  const std::string_view before = bounds.before, after = bounds.after, prefix = bounds.prefix;
  const std::string head = absl::StrCat("(?:^|[^", ToAbsl(before), "]", prefix.empty() ? "" : "|",
                                        ToAbsl(prefix), ")(");
  const std::string tail = absl::StrCat(")(?:[^", ToAbsl(after), "]|$)");
  if (!absl::StartsWith(ToAbsl(pattern), head) || !absl::EndsWith(ToAbsl(pattern), tail) ||
      pattern.size() <= head.size() + tail.size() ||
      prefix.find_first_of("\\^$.|?*+()[]{}") != std::string_view::npos) {
    return absl::InternalError(absl::StrCat("pattern '", ToAbsl(pattern), "' is not bounded by [",
                                            ToAbsl(before), "] and [", ToAbsl(after), "]"));
  }
  BoundedContext context;
  absl::StatusOr<std::bitset<128>> before_set = AsciiClass(before);
  if (!before_set.ok()) return before_set.status();
  absl::StatusOr<std::bitset<128>> after_set = AsciiClass(after);
  if (!after_set.ok()) return after_set.status();
  context.before_ = *before_set;
  context.after_ = *after_set;
  context.prefix_ = std::string(prefix);
  return context;
}

bool BoundedContext::Body(std::string_view text, size_t begin, size_t end, size_t* body_begin,
                          size_t* body_end) const {
  if (begin >= end || end > text.size()) return false;
  const std::string_view match = text.substr(begin, end - begin);
  size_t b = begin;
  if (!prefix_.empty() && match.size() > prefix_.size() &&
      match.substr(0, prefix_.size()) == prefix_) {
    b += prefix_.size();  // The body never contains the prefix.
  } else if (!In(before_, static_cast<unsigned char>(text[b]))) {
    // The body's first byte is inside `before`, the context character never is.
    b += Utf8LengthOfLead(static_cast<unsigned char>(text[b]));
  }
  // Likewise at the end: step back over the last character when it is outside `after`.
  size_t e = end;
  if (!In(after_, static_cast<unsigned char>(text[e - 1]))) {
    --e;
    while (e > begin && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) --e;
  }
  if (b >= e) return false;
  *body_begin = b;
  *body_end = e;
  return true;
}

}  // namespace warden::policies
