#include "policies/normalizer.h"

#include <string>

#include "gtest/gtest.h"

namespace warden::policies {
namespace {

std::string Norm(std::string_view s, const NormalizeOptions& o = {}) {
  absl::StatusOr<NormalizedText> n = Normalize(s, o);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? n->text : "<error>";
}

TEST(Normalizer, CaseFoldsAndKeepsAsciiOffsets) {
  absl::StatusOr<NormalizedText> n = Normalize("Hello World");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text, "hello world");
  ASSERT_EQ(n->to_original.size(), n->text.size() + 1);
  for (size_t i = 0; i <= n->text.size(); ++i) EXPECT_EQ(n->to_original[i], i);
}

TEST(Normalizer, MapsFullWidthDigitsToAsciiWithOriginalOffsets) {
  // "ＡＢ１２" : 4 full-width characters of 3 bytes each.
  const std::string in = "x \xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\x91\xEF\xBC\x92 y";
  absl::StatusOr<NormalizedText> n = Normalize(in, {.fold_leetspeak = false});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text, "x ab12 y");
  Span s = n->ToOriginal(2, 6);
  EXPECT_EQ(s.begin, 2u);
  EXPECT_EQ(s.end, 14u);
  Span digits = n->ToOriginal(4, 6);
  EXPECT_EQ(in.substr(digits.begin, digits.end - digits.begin), "\xEF\xBC\x91\xEF\xBC\x92");
}

TEST(Normalizer, RemovesZeroWidthAndBidiCharacters) {
  const std::string in = "ig\xE2\x80\x8Bno\xE2\x80\xAEre\xC2\xADme\xEF\xBB\xBF";
  EXPECT_EQ(Norm(in), "ignoreme");
}

TEST(Normalizer, FoldsCyrillicLookalikesInMixedScriptWords) {
  // "pаypаl" with Cyrillic а (U+0430).
  EXPECT_EQ(Norm("p\xD0\xB0yp\xD0\xB0l"), "paypal");
  // A genuine Russian word keeps its letters ("привет").
  const std::string privet = "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82";
  EXPECT_EQ(Norm(privet), privet);
}

TEST(Normalizer, FoldsWordsMadeOnlyOfLookalikes) {
  // "АРЕ" in Cyrillic capitals -> "ape".
  EXPECT_EQ(Norm("\xD0\x90\xD0\xA0\xD0\x95"), "ape");
}

TEST(Normalizer, FoldsLeetspeakOnlyInsideWords) {
  EXPECT_EQ(Norm("P4$$w0rd and 1gn0re"), "password and ignore");
  EXPECT_EQ(Norm("card 4111 1111 costs $100"), "card 4111 1111 costs $100");
}

// Folded words shrink (two-byte look-alikes become one byte), so every later byte moves;
// its offset must still point at its own original character.
TEST(Normalizer, KeepsOffsetsOfLaterTextAfterFoldedWordsShrink) {
  // "pаypаl (4 dogs) h4ck é zz" with Cyrillic а (U+0430) twice.
  const std::string in = "p\xD0\xB0yp\xD0\xB0l (4 dogs) h4ck \xC3\xA9 zz";
  absl::StatusOr<NormalizedText> n = Normalize(in, {.remove_diacritics = true});
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->text, "paypal (4 dogs) hack e zz");
  ASSERT_EQ(n->to_original.size(), n->text.size() + 1);
  const auto original_of = [&](std::string_view piece) {
    const size_t at = n->text.find(piece);
    const Span span = n->ToOriginal(at, at + piece.size());
    return in.substr(span.begin, span.end - span.begin);
  };
  EXPECT_EQ(original_of("paypal"), "p\xD0\xB0yp\xD0\xB0l");
  EXPECT_EQ(original_of("(4 dogs)"), "(4 dogs)");
  EXPECT_EQ(original_of("hack"), "h4ck");
  EXPECT_EQ(original_of("e"), "\xC3\xA9");
  EXPECT_EQ(original_of("zz"), "zz");
  EXPECT_EQ(n->to_original.back(), in.size());
}

TEST(Normalizer, LeavesLeetWhenDisabled) {
  EXPECT_EQ(Norm("h3llo", {.fold_leetspeak = false}), "h3llo");
}

TEST(Normalizer, RemovesDiacriticsWhenAsked) {
  EXPECT_EQ(Norm("Caf\xC3\xA9 na\xC3\xAFve", {.remove_diacritics = true}), "cafe naive");
  EXPECT_EQ(Norm("Caf\xC3\xA9"), "caf\xC3\xA9");
  // Decomposed e + combining acute composes to one character and keeps both bytes mapped.
  absl::StatusOr<NormalizedText> n = Normalize("e\xCC\x81!", {.remove_diacritics = true});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text, "e!");
  Span s = n->ToOriginal(0, 1);
  EXPECT_EQ(s.begin, 0u);
  EXPECT_EQ(s.end, 3u);
}

// A letter under hundreds of stacked marks of alternating classes ("Zalgo"): the marks are
// normalised in bounded segments (UAX #15's stream-safe limit), the letter survives the
// diacritic strip, and text after keeps its offsets. (Unbounded, ICU's reordering was
// quadratic in the run: policy_bench BM_ScanHostile.)
TEST(Normalizer, LongRunsOfCombiningMarksAreNormalisedInBoundedSegments) {
  std::string zalgo = "a";
  for (int i = 0; i < 300; ++i) zalgo += "\xCC\x81\xCC\x96";  // U+0301 (class 230), U+0316 (220)
  const std::string text = zalgo + " end";
  absl::StatusOr<NormalizedText> stripped = Normalize(text, {.remove_diacritics = true});
  ASSERT_TRUE(stripped.ok()) << stripped.status();
  EXPECT_EQ(stripped->text, "a end");
  const Span end = stripped->ToOriginal(2, 5);
  EXPECT_EQ(text.substr(end.begin, end.end - end.begin), "end");
  absl::StatusOr<NormalizedText> kept = Normalize(text);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->text.substr(kept->text.size() - 4), " end");
  // Every mark kept (reordered within segments); "a" and its first acute compose to "á".
  EXPECT_EQ(kept->text.size(), text.size() - 1);
}

TEST(Normalizer, KeepsCaseWhenCaseFoldIsOff) {
  EXPECT_EQ(Norm("AKIA\xEF\xBC\xA1", {.fold_leetspeak = false, .fold_homoglyphs = false,
                                      .remove_diacritics = false, .case_fold = false}),
            "AKIAA");
}

TEST(Normalizer, RejectsInvalidUtf8WithOffset) {
  absl::StatusOr<NormalizedText> n = Normalize("ab\xC3(");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("offset 2"), std::string::npos);
  EXPECT_FALSE(Normalize("\xED\xA0\x80").ok());  // UTF-8 encoded surrogate.
  EXPECT_FALSE(Normalize("\xC0\xAF").ok());      // Overlong encoding.
}

TEST(Normalizer, ToOriginalClampsOutOfRangeSpans) {
  absl::StatusOr<NormalizedText> n = Normalize("abc");
  ASSERT_TRUE(n.ok());
  Span s = n->ToOriginal(2, 99);
  EXPECT_EQ(s.begin, 2u);
  EXPECT_EQ(s.end, 3u);
  Span empty = n->ToOriginal(5, 1);
  EXPECT_EQ(empty.begin, empty.end);
  EXPECT_EQ(NormalizedText{}.ToOriginal(0, 1).end, 0u);
}

TEST(Normalizer, LigatureExpandsAndMapsBothLettersToIt) {
  absl::StatusOr<NormalizedText> n = Normalize("\xEF\xAC\x81x");  // "ﬁx"
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->text, "fix");
  Span f = n->ToOriginal(0, 1);
  EXPECT_EQ(f.begin, 0u);
  EXPECT_EQ(f.end, 3u);
  Span x = n->ToOriginal(2, 3);
  EXPECT_EQ(x.begin, 3u);
  EXPECT_EQ(x.end, 4u);
}

}  // namespace
}  // namespace warden::policies
