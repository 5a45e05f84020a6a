#include "gateway/event_emitter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "base/utf8.h"

namespace warden::gateway {

std::string ApiContentType(const std::optional<std::string>& harmony_content_type) {
  constexpr std::string_view kConstrain = "<|constrain|>";
  const std::string type = harmony_content_type.value_or("");
  // Lower case, as a request's history must send it back ("json", "code").
  return absl::AsciiStrToLower(type.rfind(kConstrain, 0) == 0 ? type.substr(kConstrain.size()) : type);
}

v1::Channel ChannelOf(const std::optional<std::string>& name) {
  if (name == "analysis") return v1::ANALYSIS;
  if (name == "commentary") return v1::COMMENTARY;
  return v1::FINAL;
}

EventEmitter::EventEmitter(const EventSink& sink, const v1::SamplingOptions& sampling) : sink_(sink) {
  for (const auto& stop : sampling.stop()) {
    stops_.push_back(stop);
    hold_ = std::max(hold_, stop.size() - 1);
  }
}

bool EventEmitter::OnToken(const model::harmony::StreamParser& parser, size_t* completed_messages) {
  const bool completed = parser.messages().size() > *completed_messages;
  // A token that ends a message may still add text to it (bytes of a character held back
  // until then): that text is the ended message's, not the next one's.
  const model::harmony::ParsedMessage& owner = completed ? parser.messages().back() : parser.current();
  const std::string& delta = parser.last_content_delta();
  if (!delta.empty() && !Text(owner, delta)) return false;
  if (completed) {
    *completed_messages = parser.messages().size();
    if (!End(parser.messages().back())) return false;
  }
  return true;
}

void EventEmitter::OnEnd(const model::harmony::StreamParser& parser, size_t completed_messages) {
  if (stopped_by_sequence_) return;
  if (parser.messages().size() > completed_messages) {
    End(parser.messages().back());
  } else if (parser.state() == model::harmony::StreamParser::State::kContent) {
    End(parser.current());
  }
}

bool EventEmitter::Text(const model::harmony::ParsedMessage& message, const std::string& delta) {
  GenerationEvent event;
  event.channel = ChannelOf(message.channel);
  event.recipient = message.recipient.value_or("");
  event.content_type = ApiContentType(message.content_type);
  if (event.channel != v1::FINAL || !event.recipient.empty() || stops_.empty()) {
    event.text = delta;
    return sink_(event);
  }
  pending_ += delta;
  // The earliest stop sequence in the text, whichever it is in the list.
  size_t first = std::string::npos;
  for (const auto& stop : stops_) first = std::min(first, pending_.find(stop));
  if (first != std::string::npos) {
    event.text = pending_.substr(0, first);
    pending_.clear();
    stopped_by_sequence_ = true;
    if (!event.text.empty()) sink_(event);
    return false;
  }
  // Keep a tail that could start a stop sequence; never split a UTF-8 character.
  const size_t cut = Utf8BoundaryAtOrBefore(pending_, pending_.size() > hold_ ? pending_.size() - hold_ : 0);
  if (cut == 0) return true;
  event.text = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return sink_(event);
}

bool EventEmitter::End(const model::harmony::ParsedMessage& message) {
  GenerationEvent event;
  event.channel = ChannelOf(message.channel);
  event.recipient = message.recipient.value_or("");
  event.content_type = ApiContentType(message.content_type);
  if (!pending_.empty()) {
    event.text = std::move(pending_);
    pending_.clear();
    if (!sink_(event)) return false;
    event.text.clear();
  }
  event.kind = GenerationEvent::Kind::kMessageEnd;
  return sink_(event);
}

}  // namespace warden::gateway
