// Parsed completions go back into the history and re-render exactly as the reference
// does (spec §10.5, worked example 4).
#include <string>

#include "gtest/gtest.h"
#include "model/harmony/renderer.h"
#include "model/harmony/stream_parser.h"
#include "tests/harmony/fixture_messages.h"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model::harmony {
namespace {

using ::warden::testing::IdsFromJson;
using ::warden::testing::MessageFromJson;
using ::warden::testing::OptionsFromJson;
using ::warden::testing::ReadJsonLines;
using ::warden::testing::SharedTokenizer;
using Json = nlohmann::ordered_json;

Json FindCase(const std::string& path, const std::string& id) {
  for (const Json& c : ReadJsonLines(path)) {
    if (c["id"] == id) return c;
  }
  ADD_FAILURE() << "no case " << id << " in " << path;
  return Json();
}

TEST(HarmonyRoundTrip, ParsedToolCallRerendersLikeReferenceHistory) {
  ASSERT_NE(SharedTokenizer(), nullptr);
  const Json completion =
      FindCase("tests/data/tokenizer/harmony_parse_cases.jsonl", "spec-ex4-completion");
  const Json conversation =
      FindCase("tests/data/tokenizer/harmony_cases.jsonl", "spec-ex4-function-call-roundtrip");
  ASSERT_FALSE(completion.is_null());
  ASSERT_FALSE(conversation.is_null());

  auto parsed = ParseCompletion(SharedTokenizer(), IdsFromJson(completion["tokens"]),
                                ParserOptions{Role::kAssistant, true});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);

  // History = the reference conversation with its two assistant messages replaced by the
  // parsed ones (system, developer, user | analysis, call | tool result).
  const Json& ref = conversation["messages"];
  ASSERT_EQ(ref.size(), 6u);
  std::vector<Message> history;
  for (int i = 0; i < 3; ++i) history.push_back(MessageFromJson(ref[i]));
  for (const ParsedMessage& m : *parsed) history.push_back(m.ToMessage());
  history.push_back(MessageFromJson(ref[5]));

  auto renderer = Renderer::Create(SharedTokenizer());
  ASSERT_TRUE(renderer.ok());
  auto ids = (*renderer)->Render(history, OptionsFromJson(conversation));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, IdsFromJson(conversation["ids"]));
}

TEST(HarmonyRoundTrip, ParseCompletionReturnsFirstError) {
  ASSERT_NE(SharedTokenizer(), nullptr);
  const std::vector<uint32_t> ids = {24912};  // "hello" where <|start|> is required
  auto parsed = ParseCompletion(SharedTokenizer(), ids, ParserOptions{std::nullopt, true});
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::model::harmony
