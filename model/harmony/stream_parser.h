// Incremental parser for the token ids a model generates in the harmony format
// (shared/spec/harmony-format.md §12): feed ids one at a time; it exposes the message being
// generated (header fields once the header is complete, content text so far) and the
// completed messages.
//
// Errors are values: a malformed stream makes Process/ProcessEos return InvalidArgument
// and the parser then stays failed (every later call returns the same error). Ids outside
// the vocabulary are rejected (the reference decodes them to U+FFFD; a model with 201,088
// logits cannot produce them, so they indicate a bug upstream).
//
// Thread safety: not thread-safe; one parser per generation stream. Holds a non-owning
// pointer to the tokenizer, which must outlive it.
#ifndef WARDEN_MODEL_HARMONY_STREAM_PARSER_H_
#define WARDEN_MODEL_HARMONY_STREAM_PARSER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/harmony/header_parser.h"
#include "model/harmony/message.h"
#include "model/tokenizer/tokenizer.h"

namespace warden::model::harmony {

// A message as parsed from model output (text content only).
struct ParsedMessage {
  Role role = Role::kAssistant;
  std::optional<std::string> name;
  std::optional<std::string> recipient;
  std::optional<std::string> channel;
  std::optional<std::string> content_type;
  std::string content;

  // The message to store in a conversation history and re-render (§10.5): role, fields and
  // the content as one text part.
  Message ToMessage() const;
};

struct ParserOptions {
  // Role announced by the prompt (`<|start|>assistant` at its end): parsing starts inside
  // the header of that message. nullopt: the ids start with <|start|>.
  std::optional<Role> expected_role = Role::kAssistant;
  // Strict (the default, and what the gateway should use); non-strict also accepts a stop
  // token in place of a missing <|message|> (§12.3).
  bool strict = true;
};

class StreamParser {
 public:
  enum class State { kExpectStart, kHeader, kContent };
  // Longest message header accepted (bytes between <|start|> and <|message|>); longer is an
  // InvalidArgument error. Non-strict parsing, whose recovery may read an unterminated
  // header as content, allows more.
  static constexpr size_t kMaxHeaderBytes = 1024;
  static constexpr size_t kMaxRecoverableHeaderBytes = 64 * 1024;

  // FailedPrecondition if the tokenizer lacks the harmony special tokens.
  static absl::StatusOr<std::unique_ptr<StreamParser>> Create(const Tokenizer* tokenizer,
                                                              const ParserOptions& options);

  // Consumes one generated id. <|end|>, <|call|> and <|return|> complete a message.
  absl::Status Process(uint32_t id);
  // End of generation: completes a message whose content was being generated (truncated
  // output); an unfinished header is an error.
  absl::Status ProcessEos();

  State state() const { return state_; }
  // Completed messages, in order.
  const std::vector<ParsedMessage>& messages() const { return messages_; }
  // The message being generated; its header fields are known only in kContent state, and
  // `content` holds the complete UTF-8 text decoded so far (an incomplete character is
  // held back until its remaining bytes arrive).
  const ParsedMessage& current() const { return current_; }
  // Role of the current message, or of the next one if announced; nullopt when unknown.
  std::optional<Role> current_role() const;
  // Text the last Process() call appended to current().content (empty if none).
  const std::string& last_content_delta() const { return last_delta_; }
  // The id that ended the most recent completed message (<|end|>, <|call|>, <|return|>),
  // or nullopt if the last message was ended by ProcessEos.
  std::optional<uint32_t> last_stop_token() const { return last_stop_token_; }

 private:
  StreamParser(const Tokenizer* tokenizer, const ParserOptions& options, uint32_t start,
               uint32_t message, std::vector<uint32_t> stops);

  absl::Status ProcessInExpectStart(uint32_t id);
  absl::Status ProcessInHeader(uint32_t id);
  absl::Status ProcessInContent(uint32_t id);
  absl::Status FinishHeader();
  absl::Status RecoverUnterminatedHeader();
  void FinishMessage();
  bool IsStop(uint32_t id) const;
  absl::Status Fail(absl::Status status);

  const Tokenizer* tokenizer_;
  const bool strict_;
  const uint32_t start_id_;
  const uint32_t message_id_;
  const std::vector<uint32_t> stop_ids_;

  State state_;
  std::optional<Role> next_role_;
  std::string header_bytes_;
  ParsedMessage current_;
  IncrementalDecoder decoder_;
  std::string last_delta_;
  std::optional<uint32_t> last_stop_token_;
  std::vector<ParsedMessage> messages_;
  absl::Status error_;
};

// Parses a whole completion: Process for every id, then ProcessEos. Returns the messages
// or the first error.
absl::StatusOr<std::vector<ParsedMessage>> ParseCompletion(const Tokenizer* tokenizer,
                                                           absl::Span<const uint32_t> ids,
                                                           const ParserOptions& options);

}  // namespace warden::model::harmony

#endif  // WARDEN_MODEL_HARMONY_STREAM_PARSER_H_
