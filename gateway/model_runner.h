// The gateway's view of the model: harmony conversation in, a stream of parsed events out.
// Implementations run inference on their own threads, never on gRPC's.
#ifndef WARDEN_GATEWAY_MODEL_RUNNER_H_
#define WARDEN_GATEWAY_MODEL_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// One request after the input checks (contents already redacted where needed).
struct GenerationInput {
  std::vector<v1::Message> messages;
  std::string instructions;
  std::vector<v1::FunctionTool> tools;
  v1::ReasoningEffort reasoning_effort = v1::MEDIUM;
  v1::SamplingOptions sampling;   // max_output_tokens already capped by the app's limit.
};

// A piece of model output, parsed from the harmony token stream.
struct GenerationEvent {
  enum class Kind {
    kText,      // `text` was added to a message on `channel` (to `recipient` if set).
    kMessageEnd // The message on `channel` ended.
  };
  Kind kind = Kind::kText;
  v1::Channel channel = v1::FINAL;
  std::string recipient;     // Tool calls: e.g. "functions.get_weather".
  std::string content_type;  // e.g. "json".
  std::string text;
};

struct GenerationSummary {
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  uint32_t cached_prompt_tokens = 0;
  // Times the KV memory ran out and the generation waited to be recomputed (scheduler.h).
  uint32_t preemptions = 0;
  v1::FinishReason finish_reason = v1::STOP;
  std::string format_error;  // Set when the model's output broke the harmony format.
};

// Called on the model's thread for each event. Returning false stops generation within one
// engine step (client cancelled, output blocked). It may block to pause the engine.
using EventSink = std::function<bool(const GenerationEvent&)>;

// One generation started by ModelRunner::Start. Thread-safe.
class GenerationJob {
 public:
  // Waits for the generation to end.
  virtual ~GenerationJob() = default;
  // True once the last event has been delivered to the sink and the result is known.
  virtual bool Done() const = 0;
  // Blocks until Done(); then the usage, or why the generation failed.
  virtual absl::StatusOr<GenerationSummary> Wait() = 0;
  // Asks the generation to stop even before its first event: a long prompt's prefill
  // produces no event whose sink could refuse it, so a client that is gone must be able
  // to stop it here. Returns at once; Done() follows within one engine step.
  virtual void Cancel() = 0;
};

// Thread-safe.
class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  // Starts one generation on the runner's threads; `sink` receives its events there until
  // the end or until it returns false. `sink` must stay callable until the job is Done().
  virtual std::unique_ptr<GenerationJob> Start(GenerationInput input, EventSink sink) = 0;
  // Tokens the rendered prompt would have (for limits), without running the model.
  virtual absl::StatusOr<uint32_t> CountPromptTokens(const GenerationInput& input) const = 0;
  virtual std::string model_name() const = 0;
  // Generations waiting to join the running batch (for the queue-depth gauge).
  virtual size_t queued_generations() const { return 0; }
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_MODEL_RUNNER_H_
