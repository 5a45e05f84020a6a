#include "base/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace warden {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (const std::string text : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
                                 "\xEF\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
  }
}

TEST(Utf8, RejectsOverlongSurrogatesTruncationAndOutOfRange) {
  struct Case {
    std::string text;
    size_t offset;
  };
  for (const Case& c : {Case{"ab\xC0\xAF", 2}, Case{"\xE0\x80\xAF", 0}, Case{"\xF0\x80\x80\xAF", 0},
                        Case{"x\xED\xA0\x80", 1}, Case{"\xF4\x90\x80\x80", 0}, Case{"\xF5\x80\x80\x80", 0},
                        Case{"ok\xE2\x82", 2}, Case{"\x80", 0}, Case{"\xC3\x28", 0}, Case{"\xFF", 0}}) {
    EXPECT_EQ(FirstInvalidUtf8(c.text), c.offset);
    EXPECT_FALSE(IsValidUtf8(c.text));
  }
}

}  // namespace
TEST(Utf8, BoundaryAtOrBeforeNeverCutsACharacter) {
  const std::string text = "a\xE2\x82\xAC" "b";  // a, euro sign (3 bytes), b
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 0), 0u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 1), 1u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 2), 1u);  // inside the euro sign
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 3), 1u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 4), 4u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 5), 5u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(text, 99), 5u);
}

}  // namespace warden
