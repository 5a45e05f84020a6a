// BoundedContext must give exactly RE2's capturing group for every class-bounded
// built-in pattern: checked against RE2 on many random texts built from the pieces these
// patterns are made of.
#include "policies/bounded_context.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "policies/detectors.h"
#include "re2/re2.h"

namespace warden::policies {
namespace {

struct BoundedPattern {
  std::string name;
  std::string pattern;
  ContextBounds bounds;
};

std::vector<BoundedPattern> AllBoundedPatterns() {
  std::vector<BoundedPattern> patterns;
  for (int t = v1::DetectorType_MIN; t <= v1::DetectorType_MAX; ++t) {
    if (!v1::DetectorType_IsValid(t)) continue;
    const DetectorSpec* spec = FindDetector(static_cast<v1::DetectorType>(t));
    if (spec == nullptr || spec->bounds.empty()) continue;
    patterns.push_back({std::string(spec->entity_type), std::string(spec->pattern), spec->bounds});
  }
  for (uint32_t min_chars : {16u, 24u}) {
    patterns.push_back({"ENCODED_" + std::to_string(min_chars), EncodedPayloadPattern(min_chars),
                        kEncodedPayloadBounds});
  }
  return patterns;
}

// Texts made of runs of key-like characters, the detectors' prefixes and separators, and
// multi-byte characters next to them (context characters may be several bytes).
std::string RandomText(std::mt19937& rng) {
  static const char* const kPieces[] = {
      "4111", "1111 ", "5500-0000", "0000", "123", "-45-", "6789", " ", "  ", "-", "_", "+", "/",
      "=", "==", ".", ",", ":", "\n", "ghp_", "github_pat_", "AKIA", "ASIA", "A3TX", "sk_live_",
      "pk_test_", "AIza", "sk-", "sk-proj-", "DE89", "3704", "GB82WEST", "abcdefghij",
      "ABCDEFGHIJKLMNOP", "Zz9_", "@", "@example.com", "mailto:", "mailto:a", "a.b", "%", ".org", "078-05-1120", "123 45 6789", "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "x", "Q", "é", "—", "日本", "😀", "\xc2\xa0",
      // E-mail contexts and internationalised addresses.
      "Email:", "E-mail:", "users/", "//", "://", "user:", "https://u:p", "josé", "exämple", "用户", "@例子", ".广告",
      "。", "xn--p1ai", ".xn--", "邮箱:", "de89", "gb82west", "\xcc\x81" /* combining acute */};
  std::uniform_int_distribution<size_t> piece(0, sizeof(kPieces) / sizeof(*kPieces) - 1);
  std::uniform_int_distribution<int> count(1, 40);
  std::string text;
  for (int k = count(rng); k > 0; --k) text += kPieces[piece(rng)];
  return text;
}

TEST(BoundedContext, GivesRe2sGroupForEveryBoundedPattern) {
  const std::vector<BoundedPattern> patterns = AllBoundedPatterns();
  ASSERT_GE(patterns.size(), 9u);  // E-mail, cards, IBAN, SSN, AWS, GitHub, Stripe, Google, OpenAI.
  std::mt19937 rng(7);
  for (const BoundedPattern& p : patterns) {
    SCOPED_TRACE(p.name);
    RE2 regex(p.pattern);
    ASSERT_TRUE(regex.ok()) << regex.error();
    absl::StatusOr<BoundedContext> context = BoundedContext::ForPattern(p.pattern, p.bounds);
    ASSERT_TRUE(context.ok()) << context.status();
    int matches = 0;
    int deferred = 0;
    for (int round = 0; round < 20000; ++round) {
      const std::string text = RandomText(rng);
      re2::StringPiece groups[2];
      size_t pos = 0;
      while (pos <= text.size() && regex.Match(text, pos, text.size(), RE2::UNANCHORED, groups, 2)) {
        ++matches;
        const size_t begin = groups[0].data() - text.data();
        size_t body_begin = 0, body_end = 0;
        const std::string whole(groups[0]);
        if (!context->Body(text, begin, begin + groups[0].size(), &body_begin, &body_end)) {
          // Only a non-ASCII first or last character may be left to RE2, and only when
          // the bounds say the body may begin or end with one.
          ASSERT_TRUE(p.bounds.non_ascii) << text;
          ASSERT_TRUE(static_cast<unsigned char>(whole.front()) >= 0x80 ||
                      static_cast<unsigned char>(whole.back()) >= 0x80)
              << text;
          ++deferred;
        } else {
          ASSERT_EQ(text.substr(body_begin, body_end - body_begin), std::string(groups[1])) << text;
        }
        pos = begin + 1;
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      }
    }
    EXPECT_GT(matches, 20) << "the random texts must exercise the pattern";
    EXPECT_GT(matches - deferred, 20) << "the random texts must exercise Body";
  }
}

TEST(BoundedContext, RefusesPatternsOfAnotherShape) {
  EXPECT_FALSE(BoundedContext::ForPattern("(?:^|[^0-9])(\\d+)(?:[^0-9]|$)", {"A-Z", "A-Z"}).ok());
  EXPECT_FALSE(BoundedContext::ForPattern("\\d+", {"0-9", "0-9"}).ok());
  EXPECT_FALSE(BoundedContext::ForPattern("(?:^|[^0-9])()(?:[^0-9]|$)", {"0-9", "0-9"}).ok());
  EXPECT_TRUE(BoundedContext::ForPattern("(?:^|[^0-9])(\\d+)(?:[^0-9]|$)", {"0-9", "0-9"}).ok());
  EXPECT_TRUE(BoundedContext::ForPattern("(?:^|[^0-9]|id:)(\\d+)(?:[^0-9]|$)", {"0-9", "0-9", "id:"}).ok());
  EXPECT_FALSE(BoundedContext::ForPattern("(?:^|[^0-9]|i.)(\\d+)(?:[^0-9]|$)", {"0-9", "0-9", "i."}).ok());
  // A further context needs the bytes that end it, and non-ASCII classes must say so.
  EXPECT_TRUE(BoundedContext::ForPattern("(?:^|[^0-9:]|[a-z]+:)(\\d+)(?:[^0-9]|$)", {"0-9:", "0-9", {}, "[a-z]+:", ":"}).ok());
  EXPECT_FALSE(BoundedContext::ForPattern("(?:^|[^0-9:]|[a-z]+:)(\\d+)(?:[^0-9]|$)", {"0-9:", "0-9", {}, "[a-z]+:"}).ok());
  EXPECT_FALSE(BoundedContext::ForPattern("(?:^|[^0-9\\pL])(\\d+)(?:[^0-9]|$)", {"0-9\\pL", "0-9"}).ok());
  EXPECT_TRUE(BoundedContext::ForPattern("(?:^|[^0-9\\pL])(\\d+)(?:[^0-9]|$)", {"0-9\\pL", "0-9", {}, {}, {}, true}).ok());
}

TEST(BoundedContext, FindsTheBodyAfterAFurtherContext) {
  absl::StatusOr<BoundedContext> context = BoundedContext::ForPattern(
      "(?:^|[^0-9:]|[a-z]+:)(\\d+)(?:[^0-9]|$)", {"0-9:", "0-9", {}, "[a-z]+:", ":"});
  ASSERT_TRUE(context.ok()) << context.status();
  const std::string text = "id:123 ";
  size_t b = 0, e = 0;
  ASSERT_TRUE(context->Body(text, 0, text.size(), &b, &e));
  EXPECT_EQ(text.substr(b, e - b), "123");
}

TEST(BoundedContext, LeavesNonAsciiEdgesToRe2WhenTheBodyMayHaveThem) {
  absl::StatusOr<BoundedContext> context =
      BoundedContext::ForPattern("(?:^|[^0-9\\pL])([0-9\\pL]+)(?:[^0-9]|$)", {"0-9\\pL", "0-9", {}, {}, {}, true});
  ASSERT_TRUE(context.ok()) << context.status();
  size_t b = 0, e = 0;
  const std::string word = "é12";
  EXPECT_FALSE(context->Body(word, 0, word.size(), &b, &e));  // Is "é" context or body?
  const std::string digits = " 12 ";
  ASSERT_TRUE(context->Body(digits, 0, digits.size(), &b, &e));
  EXPECT_EQ(digits.substr(b, e - b), "12");
}

TEST(BoundedContext, StripsMultiByteContextCharacters) {
  absl::StatusOr<BoundedContext> context =
      BoundedContext::ForPattern("(?:^|[^0-9])(\\d+)(?:[^0-9]|$)", {"0-9", "0-9"});
  ASSERT_TRUE(context.ok());
  const std::string text = "日123€";
  size_t b = 0, e = 0;
  ASSERT_TRUE(context->Body(text, 0, text.size(), &b, &e));
  EXPECT_EQ(text.substr(b, e - b), "123");
  ASSERT_TRUE(context->Body("123", 0, 3, &b, &e));  // `^` and `$`: no context.
  EXPECT_EQ(b, 0u);
  EXPECT_EQ(e, 3u);
  EXPECT_FALSE(context->Body("€", 0, 3, &b, &e));  // Context only: not this shape.
}

}  // namespace
}  // namespace warden::policies
