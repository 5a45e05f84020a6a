#include "model/harmony/stream_parser.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/tokenizer/utf8.h"

namespace warden::model::harmony {

absl::StatusOr<std::unique_ptr<StreamParser>> StreamParser::Create(const Tokenizer* tokenizer,
                                                                   const ParserOptions& options) {
  if (tokenizer == nullptr) return absl::InvalidArgumentError("parser: null tokenizer");
  uint32_t ids[5];
  const char* names[5] = {"<|start|>", "<|message|>", "<|end|>", "<|call|>", "<|return|>"};
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint32_t> id = tokenizer->SpecialTokenId(names[i]);
    if (!id.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("parser: tokenizer has no harmony token ", names[i]));
    }
    ids[i] = *id;
  }
  return std::unique_ptr<StreamParser>(
      new StreamParser(tokenizer, options, ids[0], ids[1], {ids[2], ids[3], ids[4]}));
}

StreamParser::StreamParser(const Tokenizer* tokenizer, const ParserOptions& options, uint32_t start,
                           uint32_t message, std::vector<uint32_t> stops)
    : tokenizer_(tokenizer),
      strict_(options.strict),
      start_id_(start),
      message_id_(message),
      stop_ids_(std::move(stops)),
      state_(options.expected_role.has_value() ? State::kHeader : State::kExpectStart),
      next_role_(options.expected_role),
      decoder_(tokenizer) {}

std::optional<Role> StreamParser::current_role() const {
  if (state_ == State::kContent) return current_.role;
  return next_role_;
}

bool StreamParser::IsStop(uint32_t id) const {
  return std::find(stop_ids_.begin(), stop_ids_.end(), id) != stop_ids_.end();
}

absl::Status StreamParser::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::Status StreamParser::Process(uint32_t id) {
  if (!error_.ok()) return error_;
  last_delta_.clear();
  if (id >= tokenizer_->vocab_size()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("harmony parser: token id ", id, " is outside the vocabulary")));
  }
  switch (state_) {
    case State::kExpectStart:
      return ProcessInExpectStart(id);
    case State::kHeader:
      return ProcessInHeader(id);
    case State::kContent:
      return ProcessInContent(id);
  }
  return absl::OkStatus();
}

absl::Status StreamParser::ProcessEos() {
  if (!error_.ok()) return error_;
  last_delta_.clear();
  switch (state_) {
    case State::kExpectStart:
      return absl::OkStatus();
    case State::kHeader:
      return Fail(absl::InvalidArgumentError(
          "harmony parser: Unexpected EOS while waiting for message header to complete"));
    case State::kContent:
      last_stop_token_.reset();
      FinishMessage();
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status StreamParser::ProcessInExpectStart(uint32_t id) {
  if (id != start_id_) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "harmony parser: Unexpected token ", id, " while expecting start token ", start_id_)));
  }
  header_bytes_.clear();
  state_ = State::kHeader;
  return absl::OkStatus();
}

absl::Status StreamParser::ProcessInHeader(uint32_t id) {
  if (id == message_id_) return FinishHeader();
  if (!strict_ && IsStop(id)) return RecoverUnterminatedHeader();
  // Everything else, including <|channel|> and <|constrain|>, is header text.
  header_bytes_.append(*tokenizer_->TokenBytes(id));
  // A header is a role, a channel, a recipient and a content type: a few dozen bytes. A
  // model that keeps writing one (a runaway recipient) is a format error, not a buffer
  // that grows with every token and is copied into every event of the message.
  // Non-strict recovery may turn an unterminated header into content, so it gets room for
  // a message's worth of text, still bounded.
  const size_t limit = strict_ ? kMaxHeaderBytes : kMaxRecoverableHeaderBytes;
  if (header_bytes_.size() > limit) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("harmony parser: message header longer than ", limit, " bytes")));
  }
  return absl::OkStatus();
}

absl::Status StreamParser::FinishHeader() {
  if (!IsValidUtf8(header_bytes_)) {
    return Fail(absl::InvalidArgumentError("harmony parser: header is not valid UTF-8"));
  }
  absl::StatusOr<ParsedHeader> header = ParseHeader(header_bytes_, next_role_);
  if (!header.ok()) return Fail(header.status());
  current_ = ParsedMessage{header->role,
                           std::move(header->name),
                           std::move(header->recipient),
                           std::move(header->channel),
                           std::move(header->content_type),
                           ""};
  next_role_.reset();
  decoder_.Reset();
  state_ = State::kContent;
  return absl::OkStatus();
}

absl::Status StreamParser::RecoverUnterminatedHeader() {
  if (next_role_.has_value() && !header_bytes_.empty()) {
    if (!IsValidUtf8(header_bytes_)) {
      return Fail(absl::InvalidArgumentError("harmony parser: header is not valid UTF-8"));
    }
    std::string content;
    absl::StatusOr<ParsedHeader> header =
        ParseUnterminatedHeader(header_bytes_, *next_role_, &content);
    if (!header.ok()) return Fail(header.status());
    messages_.push_back(ParsedMessage{header->role, std::move(header->name), std::nullopt,
                                      std::move(header->channel), std::nullopt,
                                      std::move(content)});
  }
  header_bytes_.clear();
  next_role_.reset();
  state_ = State::kExpectStart;
  return absl::OkStatus();
}

absl::Status StreamParser::ProcessInContent(uint32_t id) {
  if (IsStop(id)) {
    last_stop_token_ = id;
    FinishMessage();
    return absl::OkStatus();
  }
  // Special ids other than stops are content and decode to their literal text (reference
  // behaviour); the id was range-checked in Process, so Feed cannot fail here.
  absl::StatusOr<std::string> text = decoder_.Feed(id);
  if (!text.ok()) return Fail(text.status());
  last_delta_ = *std::move(text);
  current_.content += last_delta_;
  return absl::OkStatus();
}

void StreamParser::FinishMessage() {
  // Held-back bytes of an unfinished character never leak into the next message.
  last_delta_ = decoder_.Flush();
  current_.content += last_delta_;
  messages_.push_back(std::move(current_));
  current_ = ParsedMessage();
  state_ = State::kExpectStart;
}

Message ParsedMessage::ToMessage() const {
  Message m = Message::Text(role, content);
  m.name = name;
  m.recipient = recipient;
  m.channel = channel;
  m.content_type = content_type;
  return m;
}

absl::StatusOr<std::vector<ParsedMessage>> ParseCompletion(const Tokenizer* tokenizer,
                                                           absl::Span<const uint32_t> ids,
                                                           const ParserOptions& options) {
  absl::StatusOr<std::unique_ptr<StreamParser>> parser = StreamParser::Create(tokenizer, options);
  if (!parser.ok()) return parser.status();
  for (uint32_t id : ids) {
    if (absl::Status s = (*parser)->Process(id); !s.ok()) return s;
  }
  if (absl::Status s = (*parser)->ProcessEos(); !s.ok()) return s;
  return (*parser)->messages();
}

}  // namespace warden::model::harmony
