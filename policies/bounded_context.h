// Finding the capturing group of a "class-bounded" pattern without RE2's submatch engine.
//
// A class-bounded pattern is exactly `(?:^|[^B]|P|C)(BODY)(?:[^A]|$)` where B and A
// are character classes, P an optional literal prefix such as "mailto:" that
// begins inside B and contains a byte no BODY match contains, C an optional further
// context (a regex) every match of which ends with one of the bytes E that no BODY match
// contains, and every BODY match begins with a character of B and ends with one of A
// (most built-in detectors: card numbers, API keys, base64 blobs, e-mail addresses). In a
// match of such a pattern the context before the body ends at the last byte of E in the
// match when there is one (C, or a P or a context character of E), else it is P when the
// match starts with P, else the first character exactly when it is outside B; the context
// after it is the last character exactly when that is outside A. So the group follows
// from the whole match, which RE2 finds with its DFA alone; that saves the backtracking
// submatch engine, the largest cost of a finding. B and A are decided for ASCII
// characters only: when they (may) contain non-ASCII characters too (`non_ascii`), a
// match whose deciding first or last character is non-ASCII is left to RE2's groups.
// Thread-safe (immutable).
#ifndef WARDEN_POLICIES_BOUNDED_CONTEXT_H_
#define WARDEN_POLICIES_BOUNDED_CONTEXT_H_

#include <bitset>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::policies {

// The classes and prefix of a class-bounded pattern (see below); all empty = not bounded.
struct ContextBounds {
  std::string_view before = {};  // RE2 class body, e.g. "A-Za-z0-9_".
  std::string_view after = {};
  std::string_view prefix = {};  // Optional literal context before the body, e.g. "mailto:".
  // Optional: the further context C (an RE2 alternative) and the bytes E, one of which
  // ends every match of C and none of which any BODY match contains.
  std::string_view context = {};
  std::string_view context_end = {};
  // B or A contain non-ASCII characters (the body may begin or end with one).
  bool non_ascii = false;
  bool empty() const { return before.empty(); }
};

class BoundedContext {
 public:
  // `pattern` must be `(?:^|[^` + before + `]|` + prefix + `|` + context + `)(` BODY
  // `)(?:[^` + after + `]|$)` (without `|` + prefix or `|` + context when empty), with
  // `before` and `after` RE2 class bodies (of ASCII characters unless `non_ascii`),
  // `prefix` free of regex syntax and `context_end` ASCII, given exactly when `context`
  // is; otherwise INTERNAL (a built-in table is wrong). That BODY begins inside `before`,
  // ends inside `after`, never contains `prefix` nor a byte of `context_end`, and that
  // every match of `context` ends with such a byte is the caller's promise (checked by
  // tests against RE2's own groups).
  static absl::StatusOr<BoundedContext> ForPattern(std::string_view pattern, const ContextBounds& bounds);

  // The body of a whole match [begin, end) of `text` (valid UTF-8, as every view is), as
  // offsets into `text`; returns false when the match is not of the promised shape, or
  // when a non-ASCII character decides it (`non_ascii`): ask RE2 for the groups then.
  bool Body(std::string_view text, size_t begin, size_t end, size_t* body_begin, size_t* body_end) const;

 private:
  static bool In(const std::bitset<128>& set, unsigned char c) { return c < 0x80 && set[c]; }
  std::bitset<128> before_, after_;
  std::string prefix_;
  std::bitset<128> context_end_;
  bool has_context_ = false;
  bool non_ascii_ = false;
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_BOUNDED_CONTEXT_H_
