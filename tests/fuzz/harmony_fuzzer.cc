// Harmony stream parser fuzzer. Byte 0 chooses the options (bit 0: non-strict; bits 1-3:
// the expected role, 0-4 = system..tool, 5-7 = none, i.e. the ids start with <|start|>);
// the rest is a sequence of ids in the fuzz_util.h encoding, mostly harmony specials and
// small ids. Checks, besides "no crash": a failed parser keeps returning its error; the
// content is always valid UTF-8 and grows by exactly last_content_delta(); completed
// messages are never taken back; ParseCompletion agrees with Process + ProcessEos.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/harmony/stream_parser.h"
#include "model/tokenizer/utf8.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/shared_data.h"

namespace warden::fuzz {
namespace {

using model::harmony::ParsedMessage;
using model::harmony::ParserOptions;
using model::harmony::Role;
using model::harmony::StreamParser;

std::vector<uint32_t> HarmonySpecials(const model::Tokenizer& tokenizer) {
  std::vector<uint32_t> ids;
  for (const char* name :
       {"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>",
        "<|constrain|>", "<|endoftext|>", "<|startoftext|>", "<|reserved_200000|>"}) {
    absl::StatusOr<uint32_t> id = tokenizer.SpecialTokenId(name);
    if (id.ok()) ids.push_back(*id);
  }
  // Header words as the model writes them (ordinary ids of o200k).
  for (const char* word : {"assistant", "analysis", "final", "commentary", " to", "=functions",
                           ".get", " json", "user", "system", "developer", "tool", " <|"}) {
    for (uint32_t id : tokenizer.EncodeOrdinary(word)) ids.push_back(id);
  }
  ids.push_back(tokenizer.vocab_size());  // Just outside the vocabulary.
  return ids;
}

ParserOptions OptionsFrom(uint8_t byte) {
  ParserOptions options;
  options.strict = (byte & 1) == 0;
  const int role = (byte >> 1) & 7;
  options.expected_role = role <= 4 ? std::optional<Role>(static_cast<Role>(role)) : std::nullopt;
  return options;
}

void CheckMessage(const ParsedMessage& message) {
  FUZZ_CHECK(model::IsValidUtf8(message.content), "message content is not valid UTF-8");
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  if (size == 0) return 0;
  const warden::model::Tokenizer& tokenizer = SharedTokenizer();
  static const std::vector<uint32_t>* const specials =
      new std::vector<uint32_t>(HarmonySpecials(tokenizer));
  const ParserOptions options = OptionsFrom(data[0]);
  const std::vector<uint32_t> ids = DecodeIds(data + 1, size - 1, *specials);

  absl::StatusOr<std::unique_ptr<StreamParser>> created = StreamParser::Create(&tokenizer, options);
  FUZZ_CHECK(created.ok(), "StreamParser::Create failed with the shipped tokenizer");
  StreamParser& parser = **created;
  absl::Status first_error;
  size_t completed = 0;
  for (uint32_t id : ids) {
    const std::string before = parser.current().content;
    const absl::Status status = parser.Process(id);
    if (!first_error.ok()) {
      FUZZ_CHECK(status == first_error, "a failed parser must keep returning its first error");
      continue;
    }
    if (!status.ok()) {
      first_error = status;
      continue;
    }
    FUZZ_CHECK(parser.messages().size() >= completed, "completed messages were dropped");
    CheckMessage(parser.current());
    if (parser.messages().size() == completed &&
        parser.state() == StreamParser::State::kContent) {
      FUZZ_CHECK(parser.current().content == before + parser.last_content_delta(),
                 "content must grow by exactly last_content_delta()");
    }
    completed = parser.messages().size();
  }
  const absl::Status eos = parser.ProcessEos();
  if (!first_error.ok()) FUZZ_CHECK(eos == first_error, "ProcessEos after failure");
  for (const ParsedMessage& message : parser.messages()) CheckMessage(message);

  absl::StatusOr<std::vector<ParsedMessage>> whole =
      warden::model::harmony::ParseCompletion(&tokenizer, ids, options);
  FUZZ_CHECK(whole.ok() == eos.ok(), "ParseCompletion and Process+ProcessEos disagree on errors");
  if (whole.ok()) {
    FUZZ_CHECK(whole->size() == parser.messages().size(),
               "ParseCompletion and Process+ProcessEos disagree on the messages");
    for (size_t i = 0; i < whole->size(); ++i) {
      FUZZ_CHECK((*whole)[i].content == parser.messages()[i].content,
                 "ParseCompletion and Process+ProcessEos disagree on a message's content");
    }
  }
  return 0;
}
