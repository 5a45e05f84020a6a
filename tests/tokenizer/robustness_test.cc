// Arbitrary bytes and adversarial shapes never break the tokenizer: every byte string
// round-trips through encode/decode, and special-token scanning stays correct on
// pathological `<|` runs.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model {
namespace {

using ::warden::testing::SharedTokenizer;

TEST(TokenizerRobustness, RoundTripsRandomByteStrings) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text(rng() % 300, '\0');
    const bool ascii_heavy = trial % 2 == 0;
    for (char& c : text) {
      const unsigned r = rng();
      c = static_cast<char>(ascii_heavy && (r & 0x300) ? (r % 96) + 32 : r & 0xFF);
    }
    const std::vector<uint32_t> ids = tok->EncodeOrdinary(text);
    for (uint32_t id : ids) ASSERT_FALSE(tok->IsSpecial(id));
    const auto decoded = tok->DecodeBytes(ids);
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(*decoded, text) << "trial " << trial;
  }
}

TEST(TokenizerRobustness, FindsSpecialAfterLongRunOfOpeners) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "<|";
  text += "end|>";
  const auto ids = tok->EncodeWithSpecials(text, AllowedSpecials::All());
  ASSERT_TRUE(ids.ok());
  ASSERT_FALSE(ids->empty());
  EXPECT_EQ(ids->back(), 200007u);
  EXPECT_EQ(*tok->DecodeBytes(*ids), text);
}

}  // namespace
}  // namespace warden::model
