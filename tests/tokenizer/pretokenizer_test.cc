// Piece boundaries for the worked examples of shared/spec/o200k-tokenizer.md §3 and the
// long-input behaviour of the pre-tokenizer.
#include "model/tokenizer/pretokenizer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::model {
namespace {

using Pieces = std::vector<std::string_view>;

TEST(Pretokenizer, SplitsSpecExamples) {
  EXPECT_EQ(SplitPieces("HTTPServer"), (Pieces{"HTTPServer"}));
  EXPECT_EQ(SplitPieces("camelCase"), (Pieces{"camel", "Case"}));
  EXPECT_EQ(SplitPieces("getHTTPResponseCode"), (Pieces{"get", "HTTPResponse", "Code"}));
  EXPECT_EQ(SplitPieces("ABC"), (Pieces{"ABC"}));
  EXPECT_EQ(SplitPieces("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(SplitPieces("a   1"), (Pieces{"a", "  ", " ", "1"}));
  EXPECT_EQ(SplitPieces("1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(SplitPieces("  \n\n  x"), (Pieces{"  \n\n", " ", " x"}));
  EXPECT_EQ(SplitPieces("DON'T"), (Pieces{"DON'T"}));
  EXPECT_EQ(SplitPieces("I'M"), (Pieces{"I'M"}));
  EXPECT_EQ(SplitPieces("don't"), (Pieces{"don't"}));
  EXPECT_EQ(SplitPieces("it\u2019s"), (Pieces{"it", "\u2019s"}));
  EXPECT_EQ(SplitPieces("hello!!\n/x"), (Pieces{"hello", "!!\n/", "x"}));
  EXPECT_EQ(SplitPieces("a \U0001F600b"), (Pieces{"a", " \U0001F600", "b"}));
  EXPECT_EQ(SplitPieces("v1.2"), (Pieces{"v", "1", ".", "2"}));
}

TEST(Pretokenizer, TreatsNelAsWhitespaceAndBomAsOther) {
  EXPECT_EQ(SplitPieces("a\u0085\u0085b"), (Pieces{"a", "\u0085", "\u0085b"}));
  EXPECT_EQ(SplitPieces("\uFEFF!"), (Pieces{"\uFEFF!"}));
  EXPECT_EQ(SplitPieces("\tabc"), (Pieces{"\tabc"}));
  EXPECT_EQ(SplitPieces("e\u0301t\u00E9"), (Pieces{"e\u0301t\u00E9"}));
}

TEST(Pretokenizer, CoversInvalidUtf8WithoutLosingBytes) {
  const std::string text = "ab\xFF\xC3(\xE2\x82 x";
  std::string joined;
  for (auto p : SplitPieces(text)) joined += std::string(p);
  EXPECT_EQ(joined, text);
}

TEST(Pretokenizer, KeepsLongLetterRunAsOnePiece) {
  const std::string text(100000, 'q');
  const Pieces pieces = SplitPieces(text);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].size(), text.size());
}

}  // namespace
}  // namespace warden::model
