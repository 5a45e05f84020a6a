// decode_cases.jsonl, lossy UTF-8 decoding and the incremental decoder.
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model {
namespace {

using ::warden::testing::IdsFromJson;
using ::warden::testing::ReadJsonLines;
using ::warden::testing::SharedTokenizer;

std::string HexToBytes(const std::string& hex) {
  return absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
}

TEST(DecodeFixtures, MatchesEveryReferenceCase) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const auto cases = ReadJsonLines("tests/data/tokenizer/decode_cases.jsonl");
  ASSERT_EQ(cases.size(), 2180u);
  int errors_expected = 0;
  for (const auto& c : cases) {
    const std::vector<uint32_t> ids = IdsFromJson(c["ids"]);
    const auto bytes = tok->DecodeBytes(ids);
    const auto lossy = tok->DecodeLossy(ids);
    if (c.contains("error")) {
      ++errors_expected;
      EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument) << c["ids"];
      EXPECT_FALSE(lossy.ok()) << c["ids"];
      continue;
    }
    ASSERT_TRUE(bytes.ok()) << c["ids"] << ": " << bytes.status();
    ASSERT_TRUE(lossy.ok()) << c["ids"] << ": " << lossy.status();
    EXPECT_EQ(*bytes, HexToBytes(c["bytes_hex"].get<std::string>())) << c["ids"];
    EXPECT_EQ(IsValidUtf8(*bytes), c["utf8_valid"].get<bool>()) << c["ids"];
    EXPECT_EQ(*lossy, c["text_lossy"].get<std::string>()) << c["ids"];
  }
  EXPECT_EQ(errors_expected, 5);
}

TEST(DecodeFixtures, IncrementalDecoderEqualsWholeDecodeForEveryCase) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  for (const auto& c : ReadJsonLines("tests/data/tokenizer/decode_cases.jsonl")) {
    if (c.contains("error")) continue;
    IncrementalDecoder decoder(tok);
    std::string streamed;
    for (uint32_t id : IdsFromJson(c["ids"])) {
      auto piece = decoder.Feed(id);
      ASSERT_TRUE(piece.ok()) << piece.status();
      streamed += *piece;
    }
    streamed += decoder.Flush();
    EXPECT_EQ(streamed, c["text_lossy"].get<std::string>()) << c["ids"];
  }
}

TEST(IncrementalDecoder, HoldsBackSplitCharacterUntilComplete) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  // One emoji per byte token: 4 ids for the 4 bytes of U+1F600.
  const std::string emoji = "\xF0\x9F\x98\x80";
  std::vector<uint32_t> byte_ids;
  for (char b : emoji) {
    const auto ids = tok->EncodeOrdinary(std::string(1, b));
    ASSERT_EQ(ids.size(), 1u);
    byte_ids.push_back(ids[0]);
  }
  IncrementalDecoder decoder(tok);
  for (size_t i = 0; i + 1 < byte_ids.size(); ++i) {
    auto out = decoder.Feed(byte_ids[i]);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "") << "emitted part of a character after byte " << i;
    EXPECT_TRUE(decoder.has_pending_bytes());
  }
  auto last = decoder.Feed(byte_ids.back());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, emoji);
  EXPECT_FALSE(decoder.has_pending_bytes());
  EXPECT_EQ(decoder.Flush(), "");
}

TEST(IncrementalDecoder, FlushReplacesIncompleteTailWithOneReplacementChar) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  IncrementalDecoder decoder(tok);
  const auto a = tok->EncodeOrdinary("a");
  const auto lead = tok->EncodeOrdinary("\xE2\x82");  // first two bytes of U+20AC
  ASSERT_TRUE(decoder.Feed(a[0]).ok());
  for (uint32_t id : lead) ASSERT_TRUE(decoder.Feed(id).ok());
  EXPECT_EQ(decoder.Flush(), "\xEF\xBF\xBD");
}

TEST(IncrementalDecoder, EmitsReplacementAsSoonAsSequenceIsInvalid) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  IncrementalDecoder decoder(tok);
  const auto lead = tok->EncodeOrdinary("\xE2");
  ASSERT_EQ(lead.size(), 1u);
  ASSERT_TRUE(decoder.Feed(lead[0]).ok());
  auto out = decoder.Feed(tok->EncodeOrdinary("x")[0]);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "\xEF\xBF\xBDx");
}

TEST(IncrementalDecoder, RejectsIdOutsideVocabularyAndKeepsState) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  IncrementalDecoder decoder(tok);
  const auto lead = tok->EncodeOrdinary("\xF0\x9F");
  for (uint32_t id : lead) ASSERT_TRUE(decoder.Feed(id).ok());
  EXPECT_EQ(decoder.Feed(201088).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(decoder.has_pending_bytes());
  const auto rest = tok->EncodeOrdinary("\x98\x80");
  std::string out;
  for (uint32_t id : rest) out += *decoder.Feed(id);
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
}

TEST(Utf8Lossy, UsesMaximalSubpartReplacement) {
  // From the Unicode standard's table 3-8 example: one U+FFFD per maximal subpart.
  EXPECT_EQ(Utf8Lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD"
            "d");
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(Utf8Lossy("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));                                 // > U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));
}

TEST(TokenizerDecode, RejectsIdAtVocabularySize) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const std::vector<uint32_t> ids = {24912, 201088};
  EXPECT_EQ(tok->DecodeBytes(ids).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok->TokenBytes(0xFFFFFFFFu).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<uint32_t> last = {201087};
  EXPECT_EQ(*tok->DecodeBytes(last), "<|reserved_201087|>");
}

}  // namespace
}  // namespace warden::model
