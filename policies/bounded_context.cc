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

}  // namespace

absl::StatusOr<BoundedContext> BoundedContext::ForPattern(std::string_view pattern,
                                                          std::string_view bounds) {
  const std::string before = absl::StrCat("(?:^|[^", ToAbsl(bounds), "])(");
  const std::string after = absl::StrCat(")(?:[^", ToAbsl(bounds), "]|$)");
  if (bounds.empty() || !absl::StartsWith(ToAbsl(pattern), before) ||
      !absl::EndsWith(ToAbsl(pattern), after) || pattern.size() <= before.size() + after.size()) {
    return absl::InternalError(
        absl::StrCat("pattern '", ToAbsl(pattern), "' is not bounded by [", ToAbsl(bounds), "]"));
  }
  RE2 inside(absl::StrCat("[", ToAbsl(bounds), "]"));
  if (!inside.ok()) return absl::InternalError(absl::StrCat("bad class [", ToAbsl(bounds), "]"));
  BoundedContext context;
  for (int c = 0; c < 128; ++c) {
    context.inside_[c] = RE2::FullMatch(std::string(1, static_cast<char>(c)), inside);
  }
  return context;
}

bool BoundedContext::Body(std::string_view text, size_t begin, size_t end, size_t* body_begin,
                          size_t* body_end) const {
  if (begin >= end || end > text.size()) return false;
  // The body's first byte is inside the class, the context character never is.
  size_t b = begin;
  if (!Inside(static_cast<unsigned char>(text[b]))) b += Utf8LengthOfLead(static_cast<unsigned char>(text[b]));
  // Likewise at the end: step back over the last character when it is outside.
  size_t e = end;
  if (!Inside(static_cast<unsigned char>(text[e - 1]))) {
    --e;
    while (e > begin && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) --e;
  }
  if (b >= e) return false;
  *body_begin = b;
  *body_end = e;
  return true;
}

}  // namespace warden::policies
