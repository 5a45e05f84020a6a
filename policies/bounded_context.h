// Finding the capturing group of a "class-bounded" pattern without RE2's submatch engine.
//
// A class-bounded pattern is exactly `(?:^|[^B])(BODY)(?:[^B]|$)` where B is a class of
// ASCII bytes and every BODY match begins and ends with a byte of B (most built-in
// detectors: card numbers, API keys, base64 blobs). In a match of such a pattern the
// first character is the context before the body exactly when it is outside B, and the
// last character is the context after it exactly when it is outside B, so the group
// follows from the whole match, which RE2 finds with its DFA alone. That saves the
// backtracking submatch engine, the largest cost of a finding. Thread-safe (immutable).
#ifndef WARDEN_POLICIES_BOUNDED_CONTEXT_H_
#define WARDEN_POLICIES_BOUNDED_CONTEXT_H_

#include <bitset>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::policies {

class BoundedContext {
 public:
  // `pattern` must be `(?:^|[^` + bounds + `])(` BODY `)(?:[^` + bounds + `]|$)`, with
  // `bounds` an RE2 class body of ASCII characters (e.g. "A-Za-z0-9_"); otherwise
  // INTERNAL (a built-in table is wrong). Whether BODY begins and ends inside the class
  // is the caller's promise (checked by tests against RE2's own groups).
  static absl::StatusOr<BoundedContext> ForPattern(std::string_view pattern, std::string_view bounds);

  // The body of a whole match [begin, end) of `text` (valid UTF-8, as every view is), as
  // offsets into `text`; returns false when the match is not of the promised shape.
  bool Body(std::string_view text, size_t begin, size_t end, size_t* body_begin, size_t* body_end) const;

 private:
  bool Inside(unsigned char c) const { return c < 0x80 && inside_[c]; }
  std::bitset<128> inside_;
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_BOUNDED_CONTEXT_H_
