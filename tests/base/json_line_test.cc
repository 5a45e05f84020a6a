// ParseJsonLine: standard JSON, with text that is not Unicode repaired to U+FFFD instead of
// refusing the line; anything else malformed is refused with the parser's reason.
#include "base/json_line.h"

#include <gtest/gtest.h>

#include <string>

namespace warden {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

std::string TextOf(const std::string& line) {
  std::string error;
  const nlohmann::json json = ParseJsonLine(line, &error);
  EXPECT_TRUE(error.empty()) << line << ": " << error;
  EXPECT_TRUE(json.is_object()) << line;
  return json.is_object() ? json.value("text", std::string("<none>")) : "<not parsed>";
}

TEST(ParseJsonLine, ValidLinesParseAsTheyAre) {
  EXPECT_EQ(TextOf(R"({"text": "caf\u00e9 \ud83d\ude00 \"q\" \\ud800"})"), "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ud800");
}

TEST(ParseJsonLine, LoneSurrogateEscapesBecomeTheReplacementCharacter) {
  EXPECT_EQ(TextOf(R"({"text": "a\ud800b"})"), std::string("a") + kReplacement + "b");
  EXPECT_EQ(TextOf(R"({"text": "\udc00"})"), kReplacement);
  EXPECT_EQ(TextOf(R"({"text": "x\ud800\ud83d\ude00"})"), std::string("x") + kReplacement + "\xF0\x9F\x98\x80");
}

TEST(ParseJsonLine, RawBytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  EXPECT_EQ(TextOf("{\"text\": \"bad \xFF\xFE end\"}"), std::string("bad ") + kReplacement + kReplacement + " end");
  EXPECT_EQ(TextOf("{\"text\": \"cut \xE2\x82\"}"), std::string("cut ") + kReplacement + kReplacement);
}

TEST(ParseJsonLine, MalformedLinesAreRefusedWithTheReason) {
  for (const std::string line : {"not json", "{\"text\": ", "{\"text\": \"x\"} trailing", "{\"text\": \"\\q\"}"}) {
    std::string error;
    const nlohmann::json json = ParseJsonLine(line, &error);
    EXPECT_TRUE(json.is_discarded()) << line;
    EXPECT_FALSE(error.empty()) << line;
    EXPECT_EQ(error.find("last read"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace warden
