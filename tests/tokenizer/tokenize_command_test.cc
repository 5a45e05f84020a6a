// The `tokenize` JSON-lines contract.
#include "model/tokenizer/tokenize_command.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model {
namespace {

using ::warden::testing::SharedTokenizer;

TEST(TokenizeJsonLines, WritesIdsPerLineAndKeepsSpecialTextOrdinary) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::istringstream in(
      "{\"text\": \"hello world\"}\n\n{\"text\": \"<|end|>\"}\n{\"text\": \"\"}\n");
  std::ostringstream out;
  ASSERT_TRUE(TokenizeJsonLines(*tok, in, out).ok());
  EXPECT_EQ(out.str(),
            "{\"ids\": [24912, 2375]}\n{\"ids\": [27, 91, 419, 91, 29]}\n{\"ids\": []}\n");
}

TEST(TokenizeJsonLines, StopsAtMalformedLineNamingItsNumber) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  for (const char* bad : {"not json", "[1,2]", "{\"text\": 5}", "{\"txt\": \"a\"}"}) {
    std::istringstream in(std::string("{\"text\": \"a\"}\n") + bad + "\n{\"text\": \"b\"}\n");
    std::ostringstream out;
    const absl::Status status = TokenizeJsonLines(*tok, in, out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("line 2"), std::string::npos) << status;
    EXPECT_EQ(out.str(), "{\"ids\": [64]}\n") << bad;
  }
}

// JSON allows escaped lone surrogates (Python's json.dumps writes them); tiktoken encodes
// them as U+FFFD. Pairs stay one character and an escaped backslash is not an escape.
TEST(TokenizeJsonLines, EncodesEscapedLoneSurrogatesAsReplacementCharacter) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::istringstream in(
      "{\"text\": \"a\\ufffdb\"}\n{\"text\": \"a\\ud800b\"}\n{\"text\": \"a\\udc00b\"}\n"
      "{\"text\": \"\\ud83d\\ud83d\\ude00\"}\n{\"text\": \"\\ufffd\\ud83d\\ude00\"}\n"
      "{\"text\": \"x\\\\ud800\"}\n");
  std::ostringstream out;
  ASSERT_TRUE(TokenizeJsonLines(*tok, in, out).ok());
  std::istringstream lines(out.str());
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  ASSERT_EQ(got.size(), 6u) << out.str();
  EXPECT_EQ(got[1], got[0]);
  EXPECT_EQ(got[2], got[0]);
  EXPECT_EQ(got[3], got[4]);
  EXPECT_EQ(got[5], "{\"ids\": [87, 59, 527, 6685]}");  // the text x\ud800, six characters
}

// Raw bytes that are not UTF-8 are read as U+FFFD (base/json_line.h), as an escaped lone
// surrogate is; a line that is not JSON fails saying why, without echoing its bytes.
TEST(TokenizeJsonLines, MalformedLineErrorSaysWhyWithoutEchoingIt) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::istringstream repaired("{\"text\": \"a\xff\"}\n{\"text\": \"a\\ufffd\"}\n");
  std::ostringstream ids;
  ASSERT_TRUE(TokenizeJsonLines(*tok, repaired, ids).ok());
  std::istringstream lines(ids.str());
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first, second);

  std::istringstream in("{\"text\": \"a\xff\n");
  std::ostringstream out;
  const absl::Status status = TokenizeJsonLines(*tok, in, out);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("parse error"), std::string::npos) << status;
  EXPECT_EQ(status.message().find('\xff'), std::string::npos) << status;
}

}  // namespace
}  // namespace warden::model
