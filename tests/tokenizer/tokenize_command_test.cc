// The `tokenize` JSON-lines contract.
#include "model/tokenizer/tokenize_command.h"

#include <sstream>

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

}  // namespace
}  // namespace warden::model
