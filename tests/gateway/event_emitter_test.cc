// EventEmitter on the real harmony stream parser and tokenizer: stop sequences end the
// final channel's text at the earliest match (whatever their order in the request), across
// token boundaries, and never on other channels; text a message-ending token adds belongs
// to the message it ends.
#include "gateway/event_emitter.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/tokenizer/fixture_util.h"

namespace warden::gateway {
namespace {

using model::harmony::StreamParser;
using ::warden::testing::SharedTokenizer;

struct Emitted {
  std::string final_text;     // Final-channel text released.
  std::string analysis_text;  // Analysis-channel text.
  int message_ends = 0;
  bool kept_going = true;     // Every OnToken returned true.
  bool stopped_by_sequence = false;
};

// Feeds `ids` (from after "<|start|>assistant") token by token, as the engine job does.
Emitted Emit(const std::vector<uint32_t>& ids, const std::vector<std::string>& stops) {
  Emitted out;
  const EventSink sink = [&out](const GenerationEvent& event) {
    if (event.kind == GenerationEvent::Kind::kMessageEnd) {
      ++out.message_ends;
    } else if (event.channel == v1::ANALYSIS) {
      out.analysis_text += event.text;
    } else if (event.channel == v1::FINAL && event.recipient.empty()) {
      out.final_text += event.text;
    }
    return true;
  };
  v1::SamplingOptions sampling;
  for (const std::string& stop : stops) sampling.add_stop(stop);
  EventEmitter emitter(sink, sampling);
  auto parser = StreamParser::Create(SharedTokenizer(), model::harmony::ParserOptions());
  EXPECT_TRUE(parser.ok()) << parser.status();
  if (!parser.ok()) return out;
  size_t completed = 0;
  for (uint32_t id : ids) {
    EXPECT_TRUE((*parser)->Process(id).ok());
    if (!emitter.OnToken(**parser, &completed)) {
      out.kept_going = false;
      break;
    }
  }
  if (out.kept_going) {
    (void)(*parser)->ProcessEos();
    emitter.OnEnd(**parser, completed);
  }
  out.stopped_by_sequence = emitter.stopped_by_sequence();
  return out;
}

std::vector<uint32_t> Encode(const std::string& harmony_text) {
  return *SharedTokenizer()->EncodeWithSpecials(harmony_text, model::AllowedSpecials::All());
}

TEST(EventEmitter, WithoutStopSequencesEverythingIsReleased) {
  const Emitted out = Emit(Encode("<|channel|>final<|message|>Answer: 42.\nDone.<|return|>"), {});
  EXPECT_EQ(out.final_text, "Answer: 42.\nDone.");
  EXPECT_EQ(out.message_ends, 1);
  EXPECT_FALSE(out.stopped_by_sequence);
}

TEST(EventEmitter, TheEarliestStopSequenceWinsWhateverItsPlaceInTheList) {
  // "Answer:" comes before the first "\n" in the text, though "\n" is listed first.
  const std::vector<uint32_t> ids = Encode("<|channel|>final<|message|>Say Answer:\nmore<|return|>");
  const Emitted out = Emit(ids, {"\n", "Answer:"});
  EXPECT_EQ(out.final_text, "Say ");
  EXPECT_TRUE(out.stopped_by_sequence);
  EXPECT_FALSE(out.kept_going);
  EXPECT_EQ(Emit(ids, {"Answer:", "\n"}).final_text, "Say ");
}

TEST(EventEmitter, AStopSequenceSplitAcrossTokensIsFound) {
  const Emitted out = Emit(Encode("<|channel|>final<|message|>alpha beta STOPWORD gamma<|return|>"), {"STOPWORD"});
  EXPECT_EQ(out.final_text, "alpha beta ");
  EXPECT_TRUE(out.stopped_by_sequence);
}

TEST(EventEmitter, StopSequencesApplyToTheFinalChannelOnly) {
  const Emitted out = Emit(Encode("<|channel|>analysis<|message|>think STOP here<|end|>"
                                 "<|start|>assistant<|channel|>final<|message|>fine STOP not this<|return|>"),
                          {"STOP"});
  EXPECT_EQ(out.analysis_text, "think STOP here");
  EXPECT_EQ(out.final_text, "fine ");
}

TEST(EventEmitter, TextHeldForAStopSequenceIsReleasedAtTheEnd) {
  const Emitted out = Emit(Encode("<|channel|>final<|message|>ends with STO<|return|>"), {"STOPWORD"});
  EXPECT_EQ(out.final_text, "ends with STO");
  EXPECT_FALSE(out.stopped_by_sequence);
}

// The analysis message ends on a token whose text completes nothing: the U+FFFD the parser
// emits for a cut character at <|end|> belongs to the analysis, not to the final answer.
TEST(EventEmitter, TextAddedByAMessageEndingTokenBelongsToTheEndedMessage) {
  std::vector<uint32_t> ids = Encode("<|channel|>analysis<|message|>cut ");
  // The first byte of "€" alone (o200k has a token for every byte).
  const std::vector<uint32_t> lead = SharedTokenizer()->EncodeOrdinary(std::string("\xE2"));
  ASSERT_EQ(lead.size(), 1u);
  ids.push_back(lead[0]);
  for (uint32_t id : Encode("<|end|><|start|>assistant<|channel|>final<|message|>ok<|return|>")) ids.push_back(id);
  const Emitted out = Emit(ids, {});
  EXPECT_EQ(out.final_text, "ok");
  EXPECT_EQ(out.analysis_text.rfind("cut ", 0), 0u) << out.analysis_text;
  EXPECT_GT(out.analysis_text.size(), 4u);  // The replacement character for the cut byte.
}

TEST(EventEmitter, ToolCallContentTypeLeavesTheConstrainTokenOut) {
  EXPECT_EQ(ApiContentType(std::string("<|constrain|>json")), "json");
  EXPECT_EQ(ApiContentType(std::string("code")), "code");
  EXPECT_EQ(ApiContentType(std::nullopt), "");
  std::string content_type;
  const EventSink sink = [&content_type](const GenerationEvent& event) {
    if (!event.recipient.empty()) content_type = event.content_type;
    return true;
  };
  v1::SamplingOptions sampling;
  EventEmitter emitter(sink, sampling);
  auto parser = StreamParser::Create(SharedTokenizer(), model::harmony::ParserOptions());
  ASSERT_TRUE(parser.ok());
  size_t completed = 0;
  for (uint32_t id : Encode("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>")) {
    ASSERT_TRUE((*parser)->Process(id).ok());
    ASSERT_TRUE(emitter.OnToken(**parser, &completed));
  }
  EXPECT_EQ(content_type, "json");
}

}  // namespace
}  // namespace warden::gateway
