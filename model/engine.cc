#include "model/engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/kernels/dense.h"

namespace warden::model {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Load(const LoadOptions& options) {
  if (options.kv_budget_bytes <= 0) {
    return absl::InvalidArgumentError("LoadOptions.kv_budget_bytes must be > 0");
  }
  ASSIGN_OR_RETURN(ModelConfig config, LoadConfig(options.model_dir));
  ASSIGN_OR_RETURN(GenerationDefaults defaults, LoadGenerationDefaults(options.model_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<ModelWeights> weights, ModelWeights::Load(options.model_dir, config, options.weight_memory));
  ASSIGN_OR_RETURN(std::unique_ptr<KernelContext> ctx, KernelContext::Create({options.threads}));
  std::unique_ptr<FastWeights> fast;
  if (options.weight_mode == WeightMode::kFast) {
    fast = std::make_unique<FastWeights>(MakeFastWeights(*weights, ctx->pool()));
  }
  return std::unique_ptr<Engine>(new Engine(std::move(config), defaults, std::move(weights), std::move(ctx),
                                            std::move(fast), options.kv_budget_bytes));
}

Engine::Engine(ModelConfig config, GenerationDefaults defaults, std::unique_ptr<ModelWeights> weights,
               std::unique_ptr<KernelContext> ctx, std::unique_ptr<FastWeights> fast, int64_t kv_budget_bytes)
    : config_(std::move(config)),
      generation_defaults_(defaults),
      weights_(std::move(weights)),
      ctx_(std::move(ctx)),
      fast_(std::move(fast)),
      budget_(kv_budget_bytes),
      transformer_(config_, *weights_, *ctx_, fast_.get()) {}

Engine::~Engine() {
  std::lock_guard<FairMutex> lock(mutex_);
  sequences_.clear();  // caches release their budget before the budget goes
}

ActivationPrecision PrefillPrecision(int64_t tokens) {
  return tokens >= kRoundedActivationMinRows ? ActivationPrecision::kBf16 : ActivationPrecision::kFloat32;
}

SequenceId Engine::CreateSequence() {
  std::lock_guard<FairMutex> lock(mutex_);
  const SequenceId id = next_id_++;
  sequences_[id] = std::make_unique<SequenceKvCache>(config_, &budget_);
  return id;
}

absl::StatusOr<std::vector<float>> Engine::Prefill(SequenceId sequence,
                                                   absl::Span<const int32_t> tokens,
                                                   bool all_positions, ActivationPrecision precision) {
  StepInput input;
  input.sequence = sequence;
  input.tokens.assign(tokens.begin(), tokens.end());
  input.all_logits = all_positions;
  input.precision = precision;
  std::lock_guard<FairMutex> lock(mutex_);
  steps_run_.fetch_add(1, std::memory_order_relaxed);
  std::vector<StepOutput> outputs;
  RETURN_IF_ERROR(StepLocked(absl::MakeConstSpan(&input, 1), &outputs));
  return std::move(outputs[0].logits);
}

absl::StatusOr<std::vector<StepOutput>> Engine::Step(absl::Span<const StepInput> inputs) {
  std::vector<StepOutput> outputs;
  RETURN_IF_ERROR(Step(inputs, &outputs));
  return outputs;
}

absl::Status Engine::Step(absl::Span<const StepInput> inputs, std::vector<StepOutput>* outputs) {
  std::lock_guard<FairMutex> lock(mutex_);
  steps_run_.fetch_add(1, std::memory_order_relaxed);
  return StepLocked(inputs, outputs);
}

absl::Status Engine::CheckStepInputs(absl::Span<const StepInput> inputs) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const StepInput& input = inputs[i];
    auto it = sequences_.find(input.sequence);
    if (it == sequences_.end()) {
      return absl::NotFoundError(absl::StrCat("no sequence ", input.sequence));
    }
    const absl::Status& lost = it->second->lost();
    if (!lost.ok()) {
      return absl::InternalError(absl::StrCat("sequence ", input.sequence,
                                              " lost its attention state when a step failed: ", lost.message()));
    }
    // A batch is a few dozen sequences at most: a quadratic check allocates nothing.
    for (size_t j = 0; j < i; ++j) {
      if (inputs[j].sequence == input.sequence) {
        return absl::InvalidArgumentError(absl::StrCat("sequence ", input.sequence, " appears twice in one step"));
      }
    }
    if (input.tokens.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("step for sequence ", input.sequence, " has no tokens"));
    }
    for (int32_t token : input.tokens) {
      if (token < 0 || token >= config_.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", token, " is outside the vocabulary [0, ", config_.vocab_size, ")"));
      }
    }
    const int64_t end = it->second->length() + static_cast<int64_t>(input.tokens.size());
    if (end > config_.max_position_embeddings) {
      return absl::OutOfRangeError(absl::StrCat("sequence ", input.sequence, " would reach ", end,
                                                " positions; the model allows ",
                                                config_.max_position_embeddings));
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::StepLocked(absl::Span<const StepInput> inputs, std::vector<StepOutput>* outputs) {
  RETURN_IF_ERROR(CheckStepInputs(inputs));
  chunks_.clear();
  for (const StepInput& input : inputs) {
    const ActivationPrecision precision = input.precision == ActivationPrecision::kBySize
                                              ? PrefillPrecision(static_cast<int64_t>(input.tokens.size()))
                                              : input.precision;
    chunks_.push_back(ForwardChunk{sequences_.find(input.sequence)->second.get(), input.tokens, input.all_logits,
                                   precision == ActivationPrecision::kBf16});
  }
  RETURN_IF_ERROR(transformer_.Forward(chunks_, &logits_, observer_ ? &observer_ : nullptr));
  outputs->resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    (*outputs)[i].sequence = inputs[i].sequence;
    // Swapped, not moved: the caller's previous buffer becomes the next step's.
    (*outputs)[i].logits.swap(logits_[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<SequenceId> Engine::ForkSequence(SequenceId sequence) {
  std::lock_guard<FairMutex> lock(mutex_);
  auto it = sequences_.find(sequence);
  if (it == sequences_.end()) return absl::NotFoundError(absl::StrCat("no sequence ", sequence));
  ASSIGN_OR_RETURN(std::unique_ptr<SequenceKvCache> copy, it->second->Clone());
  const SequenceId id = next_id_++;
  sequences_[id] = std::move(copy);
  return id;
}

absl::Status Engine::CheckPromptFits(int64_t positions, int64_t other_kv_bytes) const {
  const int64_t context = config_.max_position_embeddings;
  if (positions >= context) {
    return absl::InvalidArgumentError(
        absl::StrCat("the prompt has ", positions, " tokens; the model's context holds ", context));
  }
  const int64_t kv_needed = KvBytesForLength(positions + 1) + other_kv_bytes;
  if (kv_needed > kv_budget_bytes()) {
    return absl::ResourceExhaustedError(absl::StrCat("the prompt has ", positions, " tokens, whose KV cache needs ",
                                                     kv_needed, " bytes; the KV budget (kv_cache_bytes) is ",
                                                     kv_budget_bytes()));
  }
  return absl::OkStatus();
}

absl::Status Engine::ReleaseSequence(SequenceId sequence) {
  std::lock_guard<FairMutex> lock(mutex_);
  if (sequences_.erase(sequence) == 0) return absl::NotFoundError(absl::StrCat("no sequence ", sequence));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Engine::SequenceLength(SequenceId sequence) const {
  std::lock_guard<FairMutex> lock(mutex_);
  auto it = sequences_.find(sequence);
  if (it == sequences_.end()) return absl::NotFoundError(absl::StrCat("no sequence ", sequence));
  return it->second->length();
}

absl::StatusOr<int64_t> Engine::SequenceKvBytes(SequenceId sequence) const {
  std::lock_guard<FairMutex> lock(mutex_);
  auto it = sequences_.find(sequence);
  if (it == sequences_.end()) return absl::NotFoundError(absl::StrCat("no sequence ", sequence));
  return it->second->reserved_bytes();
}

bool Engine::SequenceLost(SequenceId sequence) const {
  std::lock_guard<FairMutex> lock(mutex_);
  auto it = sequences_.find(sequence);
  return it != sequences_.end() && !it->second->lost().ok();
}

void Engine::SetLayerObserver(LayerObserver observer) {
  std::lock_guard<FairMutex> lock(mutex_);
  observer_ = std::move(observer);
}

SamplingOptions Engine::ResolveSampling(const GenerateOptions& options) const {
  SamplingOptions sampling;
  sampling.temperature = options.temperature.value_or(generation_defaults_.temperature.value_or(1.0f));
  sampling.top_p = options.top_p.value_or(generation_defaults_.top_p.value_or(1.0f));
  sampling.top_k = options.top_k.value_or(generation_defaults_.top_k.value_or(0));
  sampling.seed = options.seed;
  return sampling;
}

absl::StatusOr<GenerateResult> Engine::Generate(absl::Span<const int32_t> prompt,
                                                const GenerateOptions& options,
                                                const TokenCallback& callback) {
  if (prompt.empty()) return absl::InvalidArgumentError("Generate needs a non-empty prompt");
  if (options.max_tokens < 0) return absl::InvalidArgumentError("GenerateOptions.max_tokens must be >= 0");
  const SamplingOptions sampling = ResolveSampling(options);
  RETURN_IF_ERROR(ValidateSamplingOptions(sampling));
  Sampler sampler(sampling);
  const SequenceId sequence = CreateSequence();
  struct Release {
    Engine* engine;
    SequenceId id;
    ~Release() { engine->ReleaseSequence(id).IgnoreError(); }
  } release{this, sequence};

  GenerateResult result;
  if (options.max_tokens == 0) return result;
  // The step's input and outputs live across the loop: decoding allocates nothing.
  StepInput input;
  input.sequence = sequence;
  input.tokens.assign(prompt.begin(), prompt.end());
  std::vector<StepOutput> outputs;
  RETURN_IF_ERROR(Step(absl::MakeConstSpan(&input, 1), &outputs));
  for (;;) {
    const int32_t token = sampler.Sample(outputs[0].logits);
    result.tokens.push_back(token);
    const bool keep_going = callback ? callback(token) : true;
    if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), token) !=
        options.stop_token_ids.end()) {
      result.finish_reason = FinishReason::kStopToken;
      return result;
    }
    if (!keep_going) {
      result.finish_reason = FinishReason::kCancelled;
      return result;
    }
    // The context is full (feeding the token back would pass the model's last position):
    // a length stop like max_tokens, keeping what was generated.
    const int64_t next_end = static_cast<int64_t>(prompt.size() + result.tokens.size());
    if (static_cast<int>(result.tokens.size()) >= options.max_tokens || next_end > config_.max_position_embeddings) {
      result.finish_reason = FinishReason::kMaxTokens;
      return result;
    }
    input.tokens.assign(1, token);
    RETURN_IF_ERROR(Step(absl::MakeConstSpan(&input, 1), &outputs));
  }
}

}  // namespace warden::model
