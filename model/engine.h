// The gpt-oss engine facade: loads a checkpoint, keeps per-sequence KV caches and runs
// batched forward steps and sampled generation on oneDNN/AVX-512 kernels.
//
// Thread safety: every public method is thread-safe; one internal mutex serialises them in
// the order the calls arrive (FairMutex: a caller running chunk after chunk cannot keep
// the others out), since a forward pass uses all kernel threads, so callers gain nothing
// by overlapping calls; a scheduler batches sequences into one Step instead. Generate holds the mutex between
// tokens only, so other calls interleave with a running generation; its callback runs
// without the mutex held and must not block for long.
// Ownership: Load returns the sole owner; sequence ids are plain handles valid until
// ReleaseSequence (or engine destruction).
#ifndef WARDEN_MODEL_ENGINE_H_
#define WARDEN_MODEL_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/fair_mutex.h"
#include "absl/types/span.h"
#include "model/config.h"
#include "model/forward.h"
#include "model/kernels/kernel_context.h"
#include "model/kv_cache.h"
#include "model/sampler.h"
#include "model/weight_options.h"
#include "model/weights.h"

namespace warden::model {

// gpt-oss's generation-ending specials: <|return|> and <|call|>. Never <|end|> (200007),
// which the model emits between its own messages.
inline constexpr int32_t kReturnToken = 200002;
inline constexpr int32_t kCallToken = 200012;

struct LoadOptions {
  std::string model_dir;                // HF root or original/ layout
  int threads = 0;                      // kernel threads; <= 0: one per core
  int64_t kv_budget_bytes = 4ll << 30;  // shared by all sequences
  WeightMode weight_mode = WeightMode::kExact;
  // Resident by default: decode streams the weights faster from huge pages (README
  // "Engine speed"); kMapped when memory is short or several processes share a checkpoint.
  Residency weight_memory = Residency::kResident;
};

using SequenceId = int64_t;

// How a step's products take one input's activations. kBf16: rounded to bf16 once (half the
// work; ~4e-3 relative per element, the reference's own bf16 mode); kFloat32: float32
// accuracy; kBySize: kBf16 from kRoundedActivationMinRows tokens of this input on. An
// input's precision never depends on the other inputs of its step, so a sequence's logits
// do not depend on what shares its steps (to float32 summation order, ~1e-6). A prompt
// prefilled in several steps should give all of them one precision: PrefillPrecision.
enum class ActivationPrecision { kBySize, kFloat32, kBf16 };

// The precision for every chunk of a prompt (or text) of `tokens` tokens, however it is cut
// into steps: what kBySize would give the whole of it in one step.
ActivationPrecision PrefillPrecision(int64_t tokens);

struct StepInput {
  SequenceId sequence = 0;
  std::vector<int32_t> tokens;  // one for decode, many for prefill; mixed in one Step
  bool all_logits = false;      // logits for every token instead of the last only
  ActivationPrecision precision = ActivationPrecision::kBySize;
};

struct StepOutput {
  SequenceId sequence = 0;
  std::vector<float> logits;  // [rows, vocab] row-major; rows = 1 or tokens.size()
};

struct GenerateOptions {
  int max_tokens = 256;
  // Unset fields take the checkpoint's generation_config.json, else temperature 1,
  // top_p 1, top_k 0 (no limit).
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int> top_k;
  uint64_t seed = 0;
  std::vector<int32_t> stop_token_ids = {kReturnToken, kCallToken};
  // Scheduler only (Engine::Generate ignores it): the first N prompt tokens are a prefix
  // shared by many requests (system + developer message, a moderation policy) whose KV
  // state the scheduler's prefix cache keeps for reuse. 0 = nothing worth caching.
  int cache_prefix_tokens = 0;
};

enum class FinishReason { kStopToken, kMaxTokens, kCancelled };

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated tokens, including a final stop token
  FinishReason finish_reason = FinishReason::kMaxTokens;
  // Prompt tokens whose KV state came from the prefix cache instead of being prefilled
  // (always 0 from Engine::Generate; set by the Scheduler).
  int64_t cached_prompt_tokens = 0;
  // Times the Scheduler evicted the sequence's KV state when memory ran out and later
  // recomputed it (prompt and tokens so far) to go on (always 0 from Engine::Generate).
  int preemptions = 0;
  // Times a step failed part-way (a kernel error) and the Scheduler recomputed the lost KV
  // state the same way (at most 1; always 0 from Engine::Generate).
  int failed_step_recoveries = 0;
  // Tokens prefilled again after those preemptions and recoveries (the prompt and the
  // tokens generated before each), the work they cost.
  int64_t recomputed_tokens = 0;
};

// Receives each generated token (stop tokens included); return false to stop (cancel).
using TokenCallback = std::function<bool(int32_t token)>;

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Load(const LoadOptions& options);
  ~Engine();

  const ModelConfig& config() const { return config_; }
  CheckpointLayout layout() const { return weights_->layout(); }

  SequenceId CreateSequence();
  // Processes `tokens` for one sequence; returns the last position's logits ([vocab]), or
  // all positions' ([tokens, vocab]) when `all_positions`.
  absl::StatusOr<std::vector<float>> Prefill(SequenceId sequence, absl::Span<const int32_t> tokens,
                                             bool all_positions = false,
                                             ActivationPrecision precision = ActivationPrecision::kBySize);
  // Advances many sequences in one batched forward pass (each sequence at most once).
  absl::StatusOr<std::vector<StepOutput>> Step(absl::Span<const StepInput> inputs);
  // The same into `outputs` (resized to inputs.size()), reusing its logits vectors: a
  // decode loop that passes the same outputs every step allocates nothing once warm.
  absl::Status Step(absl::Span<const StepInput> inputs, std::vector<StepOutput>* outputs);
  // A new sequence with a copy of `sequence`'s KV state (a reusable prefix).
  absl::StatusOr<SequenceId> ForkSequence(SequenceId sequence);
  absl::Status ReleaseSequence(SequenceId sequence);
  // Tokens processed so far by `sequence`.
  absl::StatusOr<int64_t> SequenceLength(SequenceId sequence) const;
  // KV-cache bytes `sequence` holds in the budget.
  absl::StatusOr<int64_t> SequenceKvBytes(SequenceId sequence) const;
  // Whether a step failed part-way through `sequence` (a kernel error after its rows were
  // stored): its KV state is unusable, Step refuses it with INTERNAL, and the caller should
  // release it and recompute from its tokens. False for an unknown sequence.
  bool SequenceLost(SequenceId sequence) const;

  // The sampling options `options` resolve to (unset fields take the checkpoint's
  // generation_config.json defaults). Not validated; see ValidateSamplingOptions.
  SamplingOptions ResolveSampling(const GenerateOptions& options) const;

  // Samples up to max_tokens tokens after `prompt` on a fresh sequence.
  absl::StatusOr<GenerateResult> Generate(absl::Span<const int32_t> prompt,
                                          const GenerateOptions& options,
                                          const TokenCallback& callback);

  // Test/debug hook: observer of every layer's output during later forward passes
  // (an empty function removes it). It runs on the calling thread with the engine's
  // mutex held, so it must not call back into the engine.
  void SetLayerObserver(LayerObserver observer);

  int64_t kv_bytes_in_use() const { return budget_.used(); }
  int64_t kv_budget_bytes() const { return budget_.limit(); }
  // KV-cache bytes a sequence of `length` positions needs (kv_cache.h).
  int64_t KvBytesForLength(int64_t length) const { return model::KvBytesForLength(config_, length); }
  // Whether a prompt of `positions` tokens could ever be processed, checked before any
  // work: InvalidArgument when it fills the model's context (no position left for the next
  // token), ResourceExhausted when its KV cache plus `other_kv_bytes` (e.g. the prefix a
  // fork copies) exceeds the whole budget. Messages give the counts; callers add context.
  absl::Status CheckPromptFits(int64_t positions, int64_t other_kv_bytes = 0) const;
  // Forward passes run by Step and Prefill so far (for tests and metrics: how well batches
  // stay whole).
  int64_t steps_run() const { return steps_run_.load(std::memory_order_relaxed); }

 private:
  Engine(ModelConfig config, GenerationDefaults defaults, std::unique_ptr<ModelWeights> weights,
         std::unique_ptr<KernelContext> ctx, std::unique_ptr<FastWeights> fast, int64_t kv_budget_bytes);
  absl::Status StepLocked(absl::Span<const StepInput> inputs, std::vector<StepOutput>* outputs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status CheckStepInputs(absl::Span<const StepInput> inputs) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const ModelConfig config_;
  const GenerationDefaults generation_defaults_;
  std::unique_ptr<ModelWeights> weights_;
  std::unique_ptr<KernelContext> ctx_;
  std::unique_ptr<FastWeights> fast_;  // null in exact mode
  KvBudget budget_;
  mutable FairMutex mutex_;  // FIFO: a waiting scheduler step runs between a classifier's chunks.
  Transformer transformer_ ABSL_GUARDED_BY(mutex_);
  // Step's per-call buffers, kept so that decode steps do not allocate.
  std::vector<ForwardChunk> chunks_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::vector<float>> logits_ ABSL_GUARDED_BY(mutex_);
  std::map<SequenceId, std::unique_ptr<SequenceKvCache>> sequences_ ABSL_GUARDED_BY(mutex_);
  SequenceId next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  LayerObserver observer_ ABSL_GUARDED_BY(mutex_);
  std::atomic<int64_t> steps_run_{0};
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_ENGINE_H_
