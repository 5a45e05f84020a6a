// ModelRunner on Warden's own gpt-oss engine: renders the conversation in harmony, runs
// the engine on a small pool of generation threads (never gRPC's), and parses the output
// token stream back into channel text and tool calls.
#ifndef WARDEN_GATEWAY_ENGINE_RUNNER_H_
#define WARDEN_GATEWAY_ENGINE_RUNNER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/model_runner.h"
#include "model/engine.h"
#include "model/harmony/renderer.h"
#include "model/tokenizer/tokenizer.h"
#include "proto/config.pb.h"

namespace warden::gateway {

struct EngineRunnerOptions {
  std::string model_dir;
  int threads = 0;                 // Kernel threads; 0 = one per core.
  int64_t kv_cache_bytes = 1ll << 30;
  int generation_workers = 4;      // Generations in flight at once (they share the engine).
  std::string knowledge_cutoff = "2024-06";
  std::string tokenizer_file;      // Empty: the checkpoint's, else the shipped o200k vocabulary.
};

// Thread-safe. Owns the engine, tokenizer, renderer and worker threads; the destructor
// finishes queued work first.
class EngineRunner : public ModelRunner {
 public:
  static absl::StatusOr<std::unique_ptr<EngineRunner>> Create(const EngineRunnerOptions& options);
  ~EngineRunner() override;

  std::unique_ptr<GenerationJob> Start(GenerationInput input, EventSink sink) override;
  absl::StatusOr<uint32_t> CountPromptTokens(const GenerationInput& input) const override;
  std::string model_name() const override { return model_name_; }

  // The engine and tokenizer, for other users of the same model (the LLM policy judge).
  model::Engine* engine() const { return engine_.get(); }
  const model::Tokenizer* tokenizer() const { return tokenizer_.get(); }

  // The prompt ids for `input` (system, developer, messages, then <|start|>assistant).
  absl::StatusOr<std::vector<uint32_t>> RenderPrompt(const GenerationInput& input) const;

 private:
  EngineRunner() = default;
  void WorkerLoop();

  std::unique_ptr<model::Tokenizer> tokenizer_;
  std::unique_ptr<model::harmony::Renderer> renderer_;
  std::unique_ptr<model::Engine> engine_;
  std::string model_name_;
  std::string knowledge_cutoff_;

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// Writes the demo checkpoint (tiny random gpt-oss with the full o200k vocabulary) to
// `model_dir` unless a config.json is already there.
absl::Status EnsureDemoCheckpoint(const std::string& model_dir);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_ENGINE_RUNNER_H_
