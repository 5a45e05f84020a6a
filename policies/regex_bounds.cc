#include "policies/regex_bounds.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace warden::policies {
namespace {

constexpr size_t kUnbounded = static_cast<size_t>(-1);
constexpr size_t kCharBytes = 4;

size_t Add(size_t a, size_t b) { return a == kUnbounded || b == kUnbounded ? kUnbounded : a + b; }
size_t Mul(size_t a, size_t n) {
  if (a == kUnbounded || n == kUnbounded) return a == 0 ? 0 : kUnbounded;
  return a * n;
}

// Recursive-descent walk over RE2 syntax computing the longest possible match.
class BoundParser {
 public:
  explicit BoundParser(std::string_view p) : p_(p), case_insensitive_(MayFoldCase(p)) {}

  // Whether a flag group ("(?i)", "(?si:", "(?U-i)"...) anywhere names `i`; then every
  // letter and \w is counted as possibly wider (an over-estimate where the group is local).
  static bool MayFoldCase(std::string_view p) {
    for (size_t at = p.find("(?"); at != std::string_view::npos; at = p.find("(?", at + 2)) {
      for (size_t k = at + 2; k < p.size() && (isalpha(static_cast<unsigned char>(p[k])) || p[k] == '-'); ++k) {
        if (p[k] == 'i') return true;
      }
    }
    return false;
  }

  size_t Alternation() {
    size_t best = Sequence();
    while (pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      best = std::max(best, Sequence());
    }
    return best;
  }

 private:
  size_t Sequence() {
    size_t total = 0;
    while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      total = Add(total, Quantified(Atom()));
    }
    return total;
  }

  size_t Quantified(size_t atom) {
    while (pos_ < p_.size()) {
      const char c = p_[pos_];
      if (c == '*' || c == '+') {
        ++pos_;
        atom = atom == 0 ? 0 : kUnbounded;
      } else if (c == '?') {
        ++pos_;
      } else if (c == '{' && IsRepeat()) {
        atom = Mul(atom, RepeatMax());
      } else {
        break;
      }
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // Lazy suffix.
    }
    return atom;
  }

  bool IsRepeat() const {
    size_t i = pos_ + 1;
    if (i >= p_.size() || !isdigit(static_cast<unsigned char>(p_[i]))) return false;
    return p_.find('}', i) != std::string_view::npos;
  }

  // Parses "{n}", "{n,}" or "{n,m}" and returns the maximum count.
  size_t RepeatMax() {
    const size_t close = p_.find('}', pos_);  // IsRepeat() checked it exists.
    std::string_view body = p_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    const size_t comma = body.find(',');
    if (comma == std::string_view::npos) return std::strtoul(std::string(body).c_str(), nullptr, 10);
    std::string_view upper = body.substr(comma + 1);
    if (upper.empty()) return kUnbounded;
    return std::strtoul(std::string(upper).c_str(), nullptr, 10);
  }

  size_t Atom() {
    const char c = p_[pos_];
    if (c == '(') return Group();
    if (c == '[') return CharClass();
    if (c == '\\') return Escape();
    ++pos_;
    if (c == '^' || c == '$') return 0;
    if (c == '.') return kCharBytes;
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {  // A UTF-8 literal: count its bytes once.
      while (pos_ < p_.size() && (static_cast<unsigned char>(p_[pos_]) & 0xC0) == 0x80) ++pos_;
      return kCharBytes;
    }
    // Under (?i) letters may case-fold to wider characters (k -> U+212A KELVIN SIGN).
    return isalpha(u) && case_insensitive_ ? kCharBytes : 1;
  }

  size_t Group() {
    ++pos_;  // '('
    if (pos_ < p_.size() && p_[pos_] == '?') {
      // Flags "(?i)" / "(?i:...)", non-capturing "(?:", named "(?P<name>".
      ++pos_;
      if (pos_ < p_.size() && p_[pos_] == 'P') {
        SkipPast(">");
      } else {
        while (pos_ < p_.size() && p_[pos_] != ':' && p_[pos_] != ')') ++pos_;
        if (pos_ < p_.size() && p_[pos_] == ')') {
          ++pos_;
          return 0;
        }
        ++pos_;  // ':'
      }
    }
    const size_t inner = Alternation();
    if (pos_ < p_.size()) ++pos_;  // ')'
    return inner;
  }

  size_t CharClass() {
    ++pos_;  // '['
    bool wide = case_insensitive_;
    if (pos_ < p_.size() && p_[pos_] == '^') ++pos_, wide = true;
    if (pos_ < p_.size() && p_[pos_] == ']') ++pos_;
    while (pos_ < p_.size() && p_[pos_] != ']') {
      if (static_cast<unsigned char>(p_[pos_]) >= 0x80) wide = true;
      if (p_[pos_] == '\\') {
        ++pos_;
        if (pos_ < p_.size() && !IsAsciiEscape(p_[pos_])) wide = true;
      }
      else if (p_.compare(pos_, 2, "[:") == 0) {
        if (p_.compare(pos_, 3, "[:^") == 0) wide = true;  // [:^alpha:] matches any other character.
        SkipPast(":]");
        --pos_;
      }
      ++pos_;
    }
    pos_ = std::min(p_.size(), pos_ + 1);  // ']'
    return wide ? kCharBytes : 1;
  }

  size_t Escape() {
    ++pos_;  // '\'
    if (pos_ >= p_.size()) return 0;
    const char c = p_[pos_++];
    if (c == 'b' || c == 'B' || c == 'A' || c == 'z') return 0;
    if (c == 'd' || c == 's') return 1;  // ASCII-only classes in RE2.
    if (c == 'w') return case_insensitive_ ? kCharBytes : 1;  // (?i)\w also matches K (U+212A), ſ.
    if (!isalnum(static_cast<unsigned char>(c))) return 1;  // An escaped punctuation.
    if (c == 'Q') {  // Literal text up to \E.
      const size_t end = p_.find("\\E", pos_);
      const size_t stop = end == std::string_view::npos ? p_.size() : end;
      const size_t bytes = (stop - pos_) * kCharBytes;
      pos_ = end == std::string_view::npos ? p_.size() : end + 2;
      return bytes;
    }
    if ((c == 'p' || c == 'P' || c == 'x') && pos_ < p_.size() && p_[pos_] == '{') {
      SkipPast("}");
    } else if (c == 'p' || c == 'P') {
      ++pos_;
    } else if (c == 'x') {
      pos_ = std::min(p_.size(), pos_ + 2);
    }
    return kCharBytes;
  }

  // Moves past the next `token`, or to the end when there is none (never backwards).
  void SkipPast(std::string_view token) {
    const size_t at = p_.find(token, pos_);
    pos_ = at == std::string_view::npos ? p_.size() : at + token.size();
  }

  // Escapes that stay inside ASCII: \d \s \w, punctuation, \n \t \r.
  static bool IsAsciiEscape(char c) {
    return c == 'd' || c == 's' || c == 'w' || c == 'n' || c == 't' || c == 'r' ||
           !isalnum(static_cast<unsigned char>(c));
  }

  std::string_view p_;
  bool case_insensitive_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<size_t> MaxMatchBytes(std::string_view pattern) {
  BoundParser parser(pattern);
  const size_t bound = parser.Alternation();
  if (bound == kUnbounded) return std::nullopt;
  return bound;
}

bool MatchesEmptyString(const RE2& regex) {
  // RE2's empty-width assertions (^ $ \A \z \b \B, multi-line ^ $) look only at the
  // characters on either side: none (an end of the text), a word character, '\n', or
  // another character. Every pair of those occurs at some position of these texts.
  static constexpr std::string_view kContexts[] = {
      "", "aa", "a ", "a\n", " a", "  ", " \n", "\na", "\n ", "\n\n",
  };
  for (std::string_view context : kContexts) {
    for (size_t at = 0; at <= context.size(); ++at) {
      // An empty range anchored at both ends: only an empty match at `at` counts, and RE2
      // sees the whole context for its assertions (as the scanner's searches do).
      if (regex.Match(re2::StringPiece(context.data(), context.size()), at, at, RE2::ANCHOR_BOTH,
                      nullptr, 0)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace warden::policies
