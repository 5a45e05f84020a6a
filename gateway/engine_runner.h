// ModelRunner on Warden's own gpt-oss engine: renders the conversation in harmony, submits
// it to the engine's continuous-batching scheduler (its own threads, never gRPC's; the
// system/developer prefix's KV state is cached), and parses the output token stream back
// into channel text and tool calls.
#ifndef WARDEN_GATEWAY_ENGINE_RUNNER_H_
#define WARDEN_GATEWAY_ENGINE_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/model_runner.h"
#include "model/engine.h"
#include "gateway/config_loader.h"
#include "model/harmony/renderer.h"
#include "model/scheduler.h"
#include "model/tokenizer/tokenizer.h"
#include "proto/config.pb.h"

namespace warden::gateway {

struct EngineRunnerOptions {
  std::string model_dir;
  int threads = 0;                 // Kernel threads; 0 = one per core.
  int64_t kv_cache_bytes = 1ll << 30;
  int generation_workers = kDefaultRunningSequences;  // Sequences decoded together (the rest queue).
  std::string weight_mode;         // "exact" (default) or "fast" (8-bit attention/unembedding).
  std::string weight_memory;       // "resident" (default) or "mapped" (model::Residency).
  std::string knowledge_cutoff = "2024-06";
  std::string tokenizer_file;      // Empty: the checkpoint's, else the shipped o200k vocabulary.
};

// The runner's options from the server config's model settings (validated by the config
// loader: weight_mode, weight_memory and max_running_sequences are known to be valid).
EngineRunnerOptions EngineRunnerOptionsFrom(const v1::ModelSettings& settings);

// The ids of a rendered prompt and how many of them are the shared system/developer prefix.
struct RenderedPrompt {
  std::vector<uint32_t> ids;
  size_t prefix_tokens = 0;
};

// Thread-safe. Owns the engine, its scheduler, the tokenizer and the renderer. Jobs must
// be finished (Wait) before the runner is destroyed.
class EngineRunner : public ModelRunner {
 public:
  static absl::StatusOr<std::unique_ptr<EngineRunner>> Create(const EngineRunnerOptions& options);

  std::unique_ptr<GenerationJob> Start(GenerationInput input, EventSink sink) override;
  size_t queued_generations() const override;
  absl::StatusOr<uint32_t> CountPromptTokens(const GenerationInput& input) const override;
  std::string model_name() const override { return model_name_; }

  // The engine and tokenizer, for other users of the same model (the LLM policy judge).
  model::Engine* engine() const { return engine_.get(); }
  const model::Tokenizer* tokenizer() const { return tokenizer_.get(); }

  // The prompt ids for `input` (system, developer, messages, then <|start|>assistant).
  absl::StatusOr<RenderedPrompt> RenderPrompt(const GenerationInput& input) const;

 private:
  EngineRunner() = default;

  std::unique_ptr<model::Tokenizer> tokenizer_;
  std::unique_ptr<model::harmony::Renderer> renderer_;
  std::unique_ptr<model::Engine> engine_;
  std::string model_name_;
  std::string knowledge_cutoff_;
  std::unique_ptr<model::Scheduler> scheduler_;  // Declared after engine_: destroyed first.
};

// Marks a checkpoint folder written by EnsureDemoCheckpoint.
inline constexpr char kDemoMarkerFile[] = "WARDEN_DEMO_CHECKPOINT";

// True when `model_dir` holds the random demo checkpoint.
bool IsDemoCheckpoint(const std::string& model_dir);

// Writes the demo checkpoint (tiny random gpt-oss with the full o200k vocabulary) to
// `model_dir` unless a config.json is already there.
absl::Status EnsureDemoCheckpoint(const std::string& model_dir);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_ENGINE_RUNNER_H_
