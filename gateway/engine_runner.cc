#include "gateway/engine_runner.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/runfiles.h"
#include "base/status_macros.h"
#include "model/checkpoint_writer.h"
#include "gateway/event_emitter.h"
#include "model/harmony/stream_parser.h"

namespace warden::gateway {
namespace {

namespace harmony = model::harmony;

harmony::ReasoningEffort EffortOf(v1::ReasoningEffort effort) {
  switch (effort) {
    case v1::LOW:
      return harmony::ReasoningEffort::kLow;
    case v1::HIGH:
      return harmony::ReasoningEffort::kHigh;
    default:
      return harmony::ReasoningEffort::kMedium;
  }
}

const char* ChannelName(v1::Channel channel) {
  switch (channel) {
    case v1::ANALYSIS:
      return "analysis";
    case v1::COMMENTARY:
      return "commentary";
    default:
      return "final";
  }
}

// Converts one API message into a harmony message. Content is always text: the renderer
// encodes it as ordinary text, so it can never become a special token.
harmony::Message ToHarmony(const v1::Message& message) {
  switch (message.role()) {
    case v1::DEVELOPER: {
      harmony::DeveloperContent developer;
      developer.instructions = message.content();
      return harmony::Message::Developer(std::move(developer));
    }
    case v1::ASSISTANT: {
      harmony::Message out = harmony::Message::Text(harmony::Role::kAssistant, message.content());
      out.channel = ChannelName(message.channel());
      if (!message.recipient().empty()) out.recipient = message.recipient();
      if (!message.content_type().empty()) out.content_type = message.content_type();
      return out;
    }
    case v1::TOOL: {
      harmony::Message out = harmony::Message::Text(harmony::Role::kTool, message.content());
      out.name = message.name().empty() ? "functions.unknown" : message.name();
      out.recipient = "assistant";
      out.channel = "commentary";
      return out;
    }
    default:
      return harmony::Message::Text(harmony::Role::kUser, message.content());
  }
}

// One generation submitted to the scheduler: parses the tokens the scheduler delivers
// (one callback at a time, in order, on a scheduler thread) into events for the sink.
// Done()/Wait() on the caller's side finish the parse once the scheduler is done (a
// message cut off by max_tokens still gets its end event). Thread-safe.
class EngineJob : public GenerationJob {
 public:
  EngineJob(EventSink sink, const v1::SamplingOptions& sampling, uint32_t prompt_tokens)
      : sink_(std::move(sink)), emitter_(sink_, sampling), prompt_tokens_(prompt_tokens) {}
  ~EngineJob() override {
    if (handle_ != nullptr && !handle_->Done()) handle_->Cancel();
    (void)Wait();
  }

  // Before Submit. The parser is only used by OnToken, then by Finish after the last token.
  absl::Status Init(const model::Tokenizer* tokenizer) {
    ASSIGN_OR_RETURN(parser_, harmony::StreamParser::Create(tokenizer, harmony::ParserOptions()));
    return absl::OkStatus();
  }
  void Attach(std::shared_ptr<model::GenerationHandle> handle) { handle_ = std::move(handle); }
  // Fails the job before anything was submitted.
  void FailEarly(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(status);
    finalized_ = true;
  }

  // The scheduler's token callback.
  bool OnToken(int32_t token) {
    if (token < 0) return false;
    parse_error_ = parser_->Process(static_cast<uint32_t>(token));
    if (!parse_error_.ok()) return false;
    sink_stopped_ = !emitter_.OnToken(*parser_, &completed_);
    return !sink_stopped_;
  }

  bool Done() const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finalized_) return true;
    if (handle_ == nullptr || !handle_->Done()) return false;
    const_cast<EngineJob*>(this)->FinishLocked();
    return true;
  }

  void Cancel() override {
    if (handle_ != nullptr) handle_->Cancel();
  }

  absl::StatusOr<GenerationSummary> Wait() override {
    if (handle_ != nullptr) (void)handle_->Wait();
    std::lock_guard<std::mutex> lock(mu_);
    if (!finalized_) FinishLocked();
    return result_;
  }

 private:
  // Called once, after the scheduler delivered the last token.
  void FinishLocked() {
    finalized_ = true;
    const absl::StatusOr<model::GenerateResult> generated = handle_->Wait();
    if (!generated.ok()) {
      result_ = generated.status();
      return;
    }
    GenerationSummary summary;
    if (!parse_error_.ok()) {
      // The model broke the harmony format (a random demo checkpoint does this): the
      // output ends here; what was parsed so far has been checked like any output.
      summary.format_error = std::string(parse_error_.message());
    } else if (!sink_stopped_) {
      (void)parser_->ProcessEos();
      emitter_.OnEnd(*parser_, completed_);
    }
    summary.prompt_tokens = prompt_tokens_;
    summary.cached_prompt_tokens = static_cast<uint32_t>(generated->cached_prompt_tokens);
    summary.completion_tokens = static_cast<uint32_t>(generated->tokens.size());
    summary.preemptions = static_cast<uint32_t>(generated->preemptions);
    switch (generated->finish_reason) {
      case model::FinishReason::kStopToken:
        summary.finish_reason =
            !generated->tokens.empty() && generated->tokens.back() == model::kCallToken ? v1::TOOL_CALL : v1::STOP;
        break;
      case model::FinishReason::kMaxTokens:
        summary.finish_reason = v1::LENGTH;
        break;
      case model::FinishReason::kCancelled:
        summary.finish_reason =
            emitter_.stopped_by_sequence() || !summary.format_error.empty() ? v1::STOP : v1::CANCELLED;
        break;
    }
    result_ = summary;
  }

  const EventSink sink_;
  EventEmitter emitter_;
  const uint32_t prompt_tokens_;
  std::unique_ptr<harmony::StreamParser> parser_;
  size_t completed_ = 0;
  absl::Status parse_error_;
  bool sink_stopped_ = false;
  std::shared_ptr<model::GenerationHandle> handle_;
  mutable std::mutex mu_;
  bool finalized_ = false;
  absl::StatusOr<GenerationSummary> result_ = absl::UnknownError("not finished");
};

// The checkpoint's own tokenizer files when it has them, else the configured file, else
// the o200k_harmony vocabulary shipped with Warden.
absl::StatusOr<std::unique_ptr<model::Tokenizer>> LoadTokenizer(const EngineRunnerOptions& options) {
  if (!options.tokenizer_file.empty()) return model::Tokenizer::LoadFromPath(options.tokenizer_file);
  std::error_code error;
  for (const char* name : {"tokenizer.json", "o200k_base.tiktoken"}) {
    if (std::filesystem::exists(options.model_dir + "/" + name, error)) {
      return model::Tokenizer::LoadFromCheckpointDir(options.model_dir);
    }
  }
  ASSIGN_OR_RETURN(const std::string vocab, FindRunfile(model::Tokenizer::DefaultVocabPath()));
  return model::Tokenizer::LoadTiktoken(vocab);
}

}  // namespace

bool IsDemoCheckpoint(const std::string& model_dir) {
  std::error_code error;
  return std::filesystem::exists(model_dir + "/" + kDemoMarkerFile, error);
}

absl::Status EnsureDemoCheckpoint(const std::string& model_dir) {
  std::error_code error;
  if (std::filesystem::exists(model_dir + "/config.json", error)) return absl::OkStatus();
  std::filesystem::create_directories(model_dir, error);
  if (error) return absl::UnavailableError(absl::StrCat("cannot create ", model_dir, ": ", error.message()));
  ASSIGN_OR_RETURN(model::ModelConfig config, model::PresetConfig("tiny"));
  config.vocab_size = 201088;  // The o200k_harmony vocabulary, so real prompts fit.
  model::CheckpointSpec spec;
  spec.config = config;
  spec.seed = 20260101;
  RETURN_IF_ERROR(model::WriteRandomCheckpoint(model_dir, spec));
  std::ofstream marker(model_dir + "/" + kDemoMarkerFile);
  marker << "Random weights written by warden (create_demo_if_missing); the output is gibberish.\n";
  return marker ? absl::OkStatus() : absl::UnavailableError(absl::StrCat("cannot write in ", model_dir));
}

EngineRunnerOptions EngineRunnerOptionsFrom(const v1::ModelSettings& settings) {
  EngineRunnerOptions options;
  options.model_dir = settings.model_dir();
  options.threads = static_cast<int>(settings.threads());
  if (settings.kv_cache_bytes() != 0) options.kv_cache_bytes = static_cast<int64_t>(settings.kv_cache_bytes());
  if (!settings.knowledge_cutoff().empty()) options.knowledge_cutoff = settings.knowledge_cutoff();
  options.tokenizer_file = settings.tokenizer_file();
  options.weight_mode = settings.weight_mode();
  options.weight_memory = settings.weight_memory();
  if (settings.max_running_sequences() != 0) {
    options.generation_workers = static_cast<int>(
        std::min<uint32_t>(settings.max_running_sequences(), static_cast<uint32_t>(kMaxRunningSequences)));
  }
  return options;
}

absl::StatusOr<std::unique_ptr<EngineRunner>> EngineRunner::Create(const EngineRunnerOptions& options) {
  std::unique_ptr<EngineRunner> runner(new EngineRunner());
  ASSIGN_OR_RETURN(runner->tokenizer_, LoadTokenizer(options));
  ASSIGN_OR_RETURN(runner->renderer_, harmony::Renderer::Create(runner->tokenizer_.get()));
  model::LoadOptions load;
  load.model_dir = options.model_dir;
  load.threads = options.threads;
  load.kv_budget_bytes = options.kv_cache_bytes;
  ASSIGN_OR_RETURN(load.weight_mode, model::ParseWeightMode(options.weight_mode));
  ASSIGN_OR_RETURN(load.weight_memory, model::ParseResidency(options.weight_memory));
  ASSIGN_OR_RETURN(runner->engine_, model::Engine::Load(load));
  if (runner->engine_->config().vocab_size < static_cast<int>(runner->tokenizer_->vocab_size())) {
    return absl::FailedPreconditionError(absl::StrCat("the checkpoint in ", options.model_dir, " has a vocabulary of ",
                                                      runner->engine_->config().vocab_size,
                                                      " tokens; the o200k_harmony tokenizer needs ",
                                                      runner->tokenizer_->vocab_size()));
  }
  runner->model_name_ = std::filesystem::path(options.model_dir).filename().string();
  runner->knowledge_cutoff_ = options.knowledge_cutoff;
  model::SchedulerOptions scheduler_options;
  scheduler_options.max_running = std::max(1, options.generation_workers);
  // Cached prompt prefixes may hold at most a quarter of the KV budget (as the LLM policy
  // classifier's policy prefixes may, components.cc): running sequences keep at least half.
  scheduler_options.prefix_cache_bytes = std::min(scheduler_options.prefix_cache_bytes, options.kv_cache_bytes / 4);
  ASSIGN_OR_RETURN(runner->scheduler_, model::Scheduler::Create(runner->engine_.get(), scheduler_options));
  return runner;
}

absl::StatusOr<RenderedPrompt> EngineRunner::RenderPrompt(const GenerationInput& input) const {
  std::vector<harmony::Message> messages;
  harmony::SystemContent system = harmony::SystemContent::Defaults();
  system.knowledge_cutoff = knowledge_cutoff_;
  system.current_date = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  system.reasoning_effort = EffortOf(input.reasoning_effort);
  messages.push_back(harmony::Message::System(std::move(system)));
  if (!input.instructions.empty() || !input.tools.empty()) {
    harmony::DeveloperContent developer;
    if (!input.instructions.empty()) developer.instructions = input.instructions;
    if (!input.tools.empty()) {
      harmony::ToolNamespace functions;
      functions.name = "functions";
      for (const auto& tool : input.tools) {
        harmony::ToolDescription description;
        description.name = tool.name();
        description.description = tool.description();
        if (!tool.parameters_json_schema().empty()) description.parameters_json = tool.parameters_json_schema();
        functions.tools.push_back(std::move(description));
      }
      developer.tools.push_back(std::move(functions));
    }
    messages.push_back(harmony::Message::Developer(std::move(developer)));
  }
  RenderedPrompt rendered;
  // The prefix (system + developer) renders to the same ids alone as at the prompt's start.
  harmony::RenderOptions prefix_options;
  prefix_options.mode = harmony::RenderMode::kConversation;
  ASSIGN_OR_RETURN(const std::vector<uint32_t> prefix, renderer_->Render(messages, prefix_options));
  rendered.prefix_tokens = prefix.size();
  for (const auto& message : input.messages) messages.push_back(ToHarmony(message));
  ASSIGN_OR_RETURN(rendered.ids, renderer_->Render(messages, harmony::RenderOptions()));
  if (rendered.prefix_tokens > rendered.ids.size() ||
      !std::equal(prefix.begin(), prefix.end(), rendered.ids.begin())) {
    rendered.prefix_tokens = 0;  // Not a prefix after all: no caching.
  }
  return rendered;
}

absl::StatusOr<uint32_t> EngineRunner::CountPromptTokens(const GenerationInput& input) const {
  ASSIGN_OR_RETURN(const RenderedPrompt rendered, RenderPrompt(input));
  return static_cast<uint32_t>(rendered.ids.size());
}

size_t EngineRunner::queued_generations() const { return scheduler_->CurrentLoad().queued; }

std::unique_ptr<GenerationJob> EngineRunner::Start(GenerationInput input, EventSink sink) {
  auto prompt = RenderPrompt(input);
  auto job = std::make_unique<EngineJob>(std::move(sink), input.sampling,
                                         prompt.ok() ? static_cast<uint32_t>(prompt->ids.size()) : 0);
  if (!prompt.ok()) {
    job->FailEarly(prompt.status());
    return job;
  }
  const absl::Status init = job->Init(tokenizer_.get());
  if (!init.ok()) {
    job->FailEarly(init);
    return job;
  }
  // A prompt that fills the model's context, or whose KV cache could never fit the budget,
  // cannot be answered: refuse it before its prefill occupies the engine, instead of
  // failing deep into it.
  const int64_t context = engine_->config().max_position_embeddings;
  const int64_t prompt_tokens = static_cast<int64_t>(prompt->ids.size());
  if (const absl::Status fits = engine_->CheckPromptFits(prompt_tokens); !fits.ok()) {
    job->FailEarly(absl::Status(fits.code(), absl::StrCat(fits.message(), " (shorten messages, instructions or tools)")));
    return job;
  }
  model::GenerateOptions options;
  // Generation ends (LENGTH) where the context ends.
  options.max_tokens = static_cast<int>(
      std::min<int64_t>(input.sampling.max_output_tokens(), context - prompt_tokens));
  if (input.sampling.has_temperature()) options.temperature = input.sampling.temperature();
  if (input.sampling.has_top_p()) options.top_p = input.sampling.top_p();
  // top_k is a uint32 on the wire; any k of at least the vocabulary means no cut.
  if (input.sampling.top_k() > 0) {
    options.top_k = static_cast<int>(std::min<uint32_t>(input.sampling.top_k(), std::numeric_limits<int32_t>::max()));
  }
  options.seed = input.sampling.has_seed() ? input.sampling.seed() : absl::Uniform<uint64_t>(absl::BitGen());
  // The system and developer messages are shared by many requests: keep their KV state.
  if (prompt->prefix_tokens > 0 && prompt->prefix_tokens < prompt->ids.size()) {
    options.cache_prefix_tokens = static_cast<int>(prompt->prefix_tokens);
  }
  EngineJob* raw = job.get();
  job->Attach(scheduler_->Submit(std::vector<int32_t>(prompt->ids.begin(), prompt->ids.end()), options,
                                 [raw](int32_t token) { return raw->OnToken(token); }));
  return job;
}

}  // namespace warden::gateway
