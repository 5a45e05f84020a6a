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
  const std::string head =
      absl::StrCat("(?:^|[^", ToAbsl(before), "]", prefix.empty() ? "" : "|", ToAbsl(prefix),
                   bounds.context.empty() ? "" : "|", ToAbsl(bounds.context), ")(");
  const std::string tail = absl::StrCat(")(?:[^", ToAbsl(after), "]|$)");
  bool ascii_end = true;
  for (char c : bounds.context_end) ascii_end = ascii_end && static_cast<unsigned char>(c) < 0x80;
  if (!absl::StartsWith(ToAbsl(pattern), head) || !absl::EndsWith(ToAbsl(pattern), tail) ||
      pattern.size() <= head.size() + tail.size() ||
      prefix.find_first_of("\\^$.|?*+()[]{}") != std::string_view::npos ||
      bounds.context.empty() != bounds.context_end.empty() || !ascii_end) {
    return absl::InternalError(absl::StrCat("pattern '", ToAbsl(pattern), "' is not bounded by [",
                                            ToAbsl(before), "] and [", ToAbsl(after), "]"));
  }
  BoundedContext context;
  absl::StatusOr<std::bitset<128>> before_set = AsciiClass(before);
  if (!before_set.ok()) return before_set.status();
  absl::StatusOr<std::bitset<128>> after_set = AsciiClass(after);
  if (!after_set.ok()) return after_set.status();
  if (!bounds.non_ascii) {
    // Classes of ASCII characters only: every non-ASCII character is outside both.
    for (std::string_view klass : {before, after}) {
      RE2 inside(absl::StrCat("[", ToAbsl(klass), "]"));
      for (const char* sample : {"\xC2\xA0", "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80"}) {
        if (RE2::FullMatch(sample, inside)) {
          return absl::InternalError(
              absl::StrCat("class [", ToAbsl(klass), "] has non-ASCII characters; set non_ascii"));
        }
      }
    }
  }
  context.before_ = *before_set;
  context.after_ = *after_set;
  context.prefix_ = std::string(prefix);
  for (char c : bounds.context_end) context.context_end_[static_cast<unsigned char>(c)] = true;
  context.has_context_ = !bounds.context_end.empty();
  context.non_ascii_ = bounds.non_ascii;
  return context;
}

bool BoundedContext::Body(std::string_view text, size_t begin, size_t end, size_t* body_begin,
                          size_t* body_end) const {
  if (begin >= end || end > text.size()) return false;
  // The context after: the last character exactly when it is outside `after`.
  size_t e = end;
  const auto last = static_cast<unsigned char>(text[e - 1]);
  if (last >= 0x80 && non_ascii_) return false;  // Undecided here: RE2 decides.
  if (!In(after_, last)) {
    --e;
    while (e > begin && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) --e;
  }
  size_t b = begin;
  bool found_end = false;
  if (has_context_) {
    // The body holds no byte of `context_end`; a context that has one ends with it.
    for (size_t i = e; i > begin; --i) {
      const auto c = static_cast<unsigned char>(text[i - 1]);
      if (c < 0x80 && context_end_[c]) {
        b = i;
        found_end = true;
        break;
      }
    }
  }
  const std::string_view match = text.substr(begin, end - begin);
  if (found_end) {
    // Done: the context ends at the last byte of `context_end`.
  } else if (!prefix_.empty() && match.size() > prefix_.size() &&
             match.substr(0, prefix_.size()) == prefix_) {
    b += prefix_.size();  // The body never contains the prefix.
  } else {
    const auto first = static_cast<unsigned char>(text[b]);
    if (first >= 0x80 && non_ascii_) return false;
    // The body's first character is inside `before`, the context character never is.
    if (!In(before_, first)) b += Utf8LengthOfLead(first);
  }
  if (b >= e) return false;
  *body_begin = b;
  *body_end = e;
  return true;
}

}  // namespace warden::policies
