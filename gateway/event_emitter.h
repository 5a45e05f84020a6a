// Turns the harmony stream parser's progress, token by token, into GenerationEvents: text
// deltas with their channel and recipient, message ends, and the request's stop sequences
// on the final channel (text up to the earliest stop sequence is released, nothing after).
// Not thread-safe: owned by one generation, called in token order.
#ifndef WARDEN_GATEWAY_EVENT_EMITTER_H_
#define WARDEN_GATEWAY_EVENT_EMITTER_H_

#include <optional>
#include <string>
#include <vector>

#include "gateway/model_runner.h"
#include "model/harmony/stream_parser.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// The API content type of a harmony one: "<|constrain|>json" is "json" (what a request's
// history may send back, and the renderer turns into the constrain token again).
std::string ApiContentType(const std::optional<std::string>& harmony_content_type);

// The API channel of a harmony channel name (an unknown or missing one is FINAL: the
// checked, visible direction).
v1::Channel ChannelOf(const std::optional<std::string>& name);

class EventEmitter {
 public:
  // `sink` must outlive the emitter.
  EventEmitter(const EventSink& sink, const v1::SamplingOptions& sampling);

  // After parser.Process(token): emits what it added. `completed_messages` is the number
  // of parser messages already ended (updated). Returns false when generation must stop
  // (the sink refused, or a stop sequence matched).
  bool OnToken(const model::harmony::StreamParser& parser, size_t* completed_messages);

  // End of generation: flush what a stop sequence kept back and close an open message.
  void OnEnd(const model::harmony::StreamParser& parser, size_t completed_messages);

  bool stopped_by_sequence() const { return stopped_by_sequence_; }

 private:
  bool Text(const model::harmony::ParsedMessage& message, const std::string& delta);
  bool End(const model::harmony::ParsedMessage& message);

  const EventSink& sink_;
  std::vector<std::string> stops_;
  size_t hold_ = 0;  // Bytes kept back: the longest stop sequence less one.
  std::string pending_;
  bool stopped_by_sequence_ = false;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_EVENT_EMITTER_H_
