// Every case of encode_cases.jsonl: ordinary encoding, all-specials encoding, round trip.
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model {
namespace {

using ::warden::testing::DescribeDifference;
using ::warden::testing::IdsFromJson;
using ::warden::testing::ReadJsonLines;
using ::warden::testing::SharedTokenizer;

constexpr char kEncodeCases[] = "tests/data/tokenizer/encode_cases.jsonl";
constexpr int kMaxReported = 10;

TEST(TokenizerFixtures, EncodesKnownStringHelloWorld) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->EncodeOrdinary("hello world"), (std::vector<uint32_t>{24912, 2375}));
  EXPECT_EQ(tok->vocab_size(), 201088u);
  EXPECT_EQ(tok->num_ordinary_tokens(), 199998u);
}

TEST(TokenizerFixtures, EncodeOrdinaryMatchesEveryReferenceCase) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const auto cases = ReadJsonLines(kEncodeCases);
  ASSERT_EQ(cases.size(), 7073u);
  int failures = 0;
  std::map<std::string, int> failures_by_cat;
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const std::vector<uint32_t> expected = IdsFromJson(c["ids"]);
    const std::vector<uint32_t> actual = tok->EncodeOrdinary(text);
    if (actual != expected) {
      ++failures_by_cat[c["cat"].get<std::string>()];
      if (++failures <= kMaxReported) {
        ADD_FAILURE() << c["id"] << " (" << c["cat"]
                      << "): " << DescribeDifference(expected, actual);
      }
    }
  }
  for (const auto& [cat, n] : failures_by_cat) ADD_FAILURE() << cat << ": " << n << " failures";
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerFixtures, DecodeBytesRoundTripsEveryReferenceCase) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  int failures = 0;
  for (const auto& c : ReadJsonLines(kEncodeCases)) {
    const auto bytes = tok->DecodeBytes(IdsFromJson(c["ids"]));
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    if (*bytes != c["text"].get<std::string>() && ++failures <= kMaxReported) {
      ADD_FAILURE() << c["id"] << " does not round-trip";
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerFixtures, EncodeWithAllSpecialsMatchesEveryReferenceCase) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  int checked = 0;
  int failures = 0;
  for (const auto& c : ReadJsonLines(kEncodeCases)) {
    if (!c.contains("ids_all_special")) continue;
    ++checked;
    const auto actual =
        tok->EncodeWithSpecials(c["text"].get<std::string>(), AllowedSpecials::All());
    ASSERT_TRUE(actual.ok()) << actual.status();
    const std::vector<uint32_t> expected = IdsFromJson(c["ids_all_special"]);
    if (*actual != expected && ++failures <= kMaxReported) {
      ADD_FAILURE() << c["id"] << ": " << DescribeDifference(expected, *actual);
    }
  }
  EXPECT_EQ(checked, 123);
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace warden::model
