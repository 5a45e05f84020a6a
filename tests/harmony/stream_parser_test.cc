// harmony_parse_cases.jsonl plus streaming behaviour of the parser.
#include "model/harmony/stream_parser.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model::harmony {
namespace {

using ::warden::testing::IdsFromJson;
using ::warden::testing::ReadJsonLines;
using ::warden::testing::SharedTokenizer;
using Json = nlohmann::ordered_json;

Json OptionalToJson(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }

Json MessageToJson(const ParsedMessage& m) {
  Json j;
  j["role"] = std::string(RoleName(m.role));
  j["name"] = OptionalToJson(m.name);
  j["recipient"] = OptionalToJson(m.recipient);
  j["channel"] = OptionalToJson(m.channel);
  j["content_type"] = OptionalToJson(m.content_type);
  j["content"] = m.content;
  return j;
}

std::unique_ptr<StreamParser> MakeParser(std::optional<Role> role, bool strict) {
  auto parser = StreamParser::Create(SharedTokenizer(), ParserOptions{role, strict});
  EXPECT_TRUE(parser.ok()) << parser.status();
  return parser.ok() ? std::move(*parser) : nullptr;
}

absl::Status Feed(StreamParser* parser, const std::vector<uint32_t>& ids) {
  for (uint32_t id : ids) {
    if (absl::Status s = parser->Process(id); !s.ok()) return s;
  }
  return parser->ProcessEos();
}

std::vector<uint32_t> Encode(const std::string& harmony_text) {
  return *SharedTokenizer()->EncodeWithSpecials(harmony_text, AllowedSpecials::All());
}

TEST(HarmonyParser, ParsesEveryReferenceCase) {
  ASSERT_NE(SharedTokenizer(), nullptr);
  const auto cases = ReadJsonLines("tests/data/tokenizer/harmony_parse_cases.jsonl");
  ASSERT_EQ(cases.size(), 28u);
  for (const Json& c : cases) {
    std::optional<Role> role;
    if (!c["role"].is_null()) role = RoleFromName(c["role"].get<std::string>());
    auto parser = MakeParser(role, c["strict"].get<bool>());
    ASSERT_NE(parser, nullptr);
    const absl::Status status = Feed(parser.get(), IdsFromJson(c["tokens"]));
    const Json& expected = c["expected"];
    if (expected.contains("error")) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
          << c["id"] << " should fail like: " << expected["error"];
      continue;
    }
    ASSERT_TRUE(status.ok()) << c["id"] << ": " << status;
    Json actual = Json::array();
    for (const ParsedMessage& m : parser->messages()) actual.push_back(MessageToJson(m));
    EXPECT_EQ(actual, expected["messages"]) << c["id"];
  }
}

TEST(HarmonyParser, ExposesHeaderAndGrowingContentWhileStreaming) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  const auto ids =
      Encode("<|channel|>commentary to=functions.flag <|constrain|>json<|message|>{\"a\":1}");
  std::string streamed;
  for (uint32_t id : ids) {
    ASSERT_TRUE(parser->Process(id).ok());
    streamed += parser->last_content_delta();
  }
  EXPECT_EQ(parser->state(), StreamParser::State::kContent);
  EXPECT_EQ(parser->current().channel, "commentary");
  EXPECT_EQ(parser->current().recipient, "functions.flag");
  EXPECT_EQ(parser->current().content_type, "<|constrain|>json");
  EXPECT_EQ(parser->current().content, "{\"a\":1}");
  EXPECT_EQ(streamed, "{\"a\":1}");
  EXPECT_TRUE(parser->messages().empty());
  ASSERT_TRUE(parser->Process(*SharedTokenizer()->SpecialTokenId("<|call|>")).ok());
  ASSERT_EQ(parser->messages().size(), 1u);
  EXPECT_EQ(parser->last_stop_token(), 200012u);
}

TEST(HarmonyParser, HoldsBackSplitEmojiBytesUntilComplete) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  for (uint32_t id : Encode("<|channel|>final<|message|>")) ASSERT_TRUE(parser->Process(id).ok());
  const std::string emoji = "\xF0\x9F\x92\x96";
  for (size_t i = 0; i < emoji.size(); ++i) {
    const auto byte_id = SharedTokenizer()->EncodeOrdinary(emoji.substr(i, 1));
    ASSERT_EQ(byte_id.size(), 1u);
    ASSERT_TRUE(parser->Process(byte_id[0]).ok());
    if (i + 1 < emoji.size()) {
      EXPECT_EQ(parser->current().content, "") << "byte " << i;
    }
  }
  EXPECT_EQ(parser->current().content, emoji);
}

TEST(HarmonyParser, DoesNotCarryIncompleteBytesIntoNextMessage) {
  auto parser = MakeParser(std::nullopt, true);
  ASSERT_NE(parser, nullptr);
  std::vector<uint32_t> ids = Encode("<|start|>assistant<|message|>a");
  ids.push_back(SharedTokenizer()->EncodeOrdinary("\xF0")[0]);
  for (uint32_t id : Encode("<|end|><|start|>assistant<|message|>b<|end|>")) ids.push_back(id);
  ASSERT_TRUE(Feed(parser.get(), ids).ok());
  ASSERT_EQ(parser->messages().size(), 2u);
  EXPECT_EQ(parser->messages()[0].content, "a\xEF\xBF\xBD");
  EXPECT_EQ(parser->messages()[1].content, "b");
}

TEST(HarmonyParser, RejectsIdOutsideVocabularyAndStaysFailed) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  for (uint32_t id : Encode("<|message|>x")) ASSERT_TRUE(parser->Process(id).ok());
  EXPECT_EQ(parser->Process(201088).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(parser->Process(Encode("y")[0]).ok());
  EXPECT_FALSE(parser->ProcessEos().ok());
}

// A model writing a runaway header (a recipient that never ends) is a format error once
// the header passes kMaxHeaderBytes, not a buffer that grows with every token.
TEST(HarmonyParser, RejectsARunawayHeader) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  for (uint32_t id : Encode("<|channel|>commentary to=functions.")) ASSERT_TRUE(parser->Process(id).ok());
  const std::vector<uint32_t> word = SharedTokenizer()->EncodeOrdinary("abcd");
  absl::Status status;
  size_t fed = 0;
  while (status.ok() && fed < 4 * StreamParser::kMaxHeaderBytes) {
    for (uint32_t id : word) status.Update(parser->Process(id));
    fed += 4;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_LE(fed, StreamParser::kMaxHeaderBytes + 8);
  // Headers of ordinary tool calls are far below the limit.
  auto ok = MakeParser(Role::kAssistant, true);
  ASSERT_NE(ok, nullptr);
  EXPECT_TRUE(Feed(ok.get(), Encode("<|channel|>commentary to=functions.get_current_weather <|constrain|>json"
                                    "<|message|>{\"city\":\"Oslo\"}<|call|>")).ok());
}

TEST(HarmonyParser, RejectsHeaderThatIsNotUtf8) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  ASSERT_TRUE(parser->Process(SharedTokenizer()->EncodeOrdinary("\xFF")[0]).ok());
  EXPECT_EQ(parser->Process(200008).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HarmonyParser, ReportsAnnouncedRoleBeforeHeaderCompletes) {
  auto parser = MakeParser(Role::kAssistant, true);
  ASSERT_NE(parser, nullptr);
  EXPECT_EQ(parser->current_role(), Role::kAssistant);
  EXPECT_EQ(parser->state(), StreamParser::State::kHeader);
  auto no_role = MakeParser(std::nullopt, true);
  ASSERT_NE(no_role, nullptr);
  EXPECT_EQ(no_role->current_role(), std::nullopt);
  EXPECT_TRUE(no_role->ProcessEos().ok());  // nothing generated is not an error
  EXPECT_TRUE(no_role->messages().empty());
}

TEST(HarmonyParser, SurvivesRandomIdStreamsWithStatusesOnly) {
  ASSERT_NE(SharedTokenizer(), nullptr);
  std::mt19937 rng(99);
  const uint32_t interesting[] = {200002, 200003, 200005, 200006, 200007, 200008, 200012,
                                  173781, 1428,   220,    0xF0,   201087, 201088};
  for (int trial = 0; trial < 500; ++trial) {
    auto parser = MakeParser(trial % 2 ? std::optional<Role>(Role::kAssistant) : std::nullopt,
                             trial % 3 != 0);
    ASSERT_NE(parser, nullptr);
    absl::Status status;
    for (int k = 0; k < 40 && status.ok(); ++k) {
      const uint32_t id = rng() % 2 ? interesting[rng() % 13] : rng() % 201088;
      status = parser->Process(id);
    }
    if (status.ok()) status = parser->ProcessEos();
    EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kInvalidArgument) << status;
  }
}

}  // namespace
}  // namespace warden::model::harmony
