// Header text parsing (§12.1), independent of tokens.
#include "model/harmony/header_parser.h"

#include "gtest/gtest.h"

namespace warden::model::harmony {
namespace {

TEST(HeaderParser, ReadsRecipientAfterChannelAndConstrainedType) {
  auto h = ParseHeader("<|channel|>commentary to=functions.get_weather<|constrain|>json",
                       Role::kAssistant);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->channel, "commentary");
  EXPECT_EQ(h->recipient, "functions.get_weather");
  EXPECT_EQ(h->content_type, "<|constrain|>json");
  EXPECT_EQ(h->name, std::nullopt);
}

TEST(HeaderParser, TreatsUnknownFirstWordWithRecipientAsToolName) {
  auto h = ParseHeader("browser.search to=assistant<|channel|>commentary", std::nullopt);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->role, Role::kTool);
  EXPECT_EQ(h->name, "browser.search");
  EXPECT_EQ(h->recipient, "assistant");
  EXPECT_EQ(h->channel, "commentary");
}

TEST(HeaderParser, ReadsLoneWordAsRecipient) {
  auto h = ParseHeader("assistant python", std::nullopt);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->recipient, "python");
  EXPECT_EQ(h->content_type, std::nullopt);
}

TEST(HeaderParser, RejectsMalformedHeaders) {
  EXPECT_EQ(ParseHeader("robot", std::nullopt).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHeader("", std::nullopt).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHeader("<|channel|> final", Role::kAssistant).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHeader("a b c d", Role::kAssistant).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HeaderParser, TurnsUnterminatedHeaderWordsIntoContent) {
  std::string content;
  auto h =
      ParseUnterminatedHeader("<|channel|>commentary Hello  there", Role::kAssistant, &content);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->channel, "commentary");
  EXPECT_EQ(content, "Hello there");
}

}  // namespace
}  // namespace warden::model::harmony
