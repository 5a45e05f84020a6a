// oss generate: samples a completion. With --prompt TEXT the text becomes the user message
// of a harmony conversation (default system message) and the completion's text is printed
// (the final channel when the output parses as harmony, else the decoded tokens); with
// --prompt_tokens the ids go in as they are and the generated ids are printed. Peak
// resident memory goes to stderr.
#include <cstdint>
#include <cstdio>
#include <memory>

#include "base/process_memory.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/harmony/renderer.h"
#include "model/harmony/stream_parser.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {
namespace {

// Default system message + one user message, ending in <|start|>assistant.
absl::StatusOr<std::vector<int32_t>> RenderUserPrompt(const Tokenizer& tokenizer, const std::string& text) {
  ASSIGN_OR_RETURN(const auto renderer, harmony::Renderer::Create(&tokenizer));
  const std::vector<harmony::Message> messages = {harmony::Message::System(harmony::SystemContent::Defaults()),
                                                  harmony::Message::Text(harmony::Role::kUser, text)};
  ASSIGN_OR_RETURN(const std::vector<uint32_t> ids, renderer->Render(messages, harmony::RenderOptions()));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

// The final channel's text when `tokens` parse as harmony, else all tokens decoded.
std::string CompletionText(const Tokenizer& tokenizer, const std::vector<int32_t>& tokens) {
  auto parser = harmony::StreamParser::Create(&tokenizer, harmony::ParserOptions());
  bool parsed = parser.ok();
  for (int32_t token : tokens) {
    if (!parsed) break;
    parsed = token >= 0 && (*parser)->Process(static_cast<uint32_t>(token)).ok();
  }
  if (parsed && (*parser)->ProcessEos().ok()) {
    std::string final_text;
    for (const auto& message : (*parser)->messages()) {
      if (message.channel == "final") final_text += message.content;
    }
    if (!final_text.empty()) return final_text;
  }
  const std::vector<uint32_t> ids(tokens.begin(), tokens.end());
  auto text = tokenizer.DecodeLossy(ids);
  return text.ok() ? *text : std::string(text.status().message());
}

}  // namespace

absl::Status RunGenerate(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags,
                   Flags::Parse(args, {"model_dir", "prompt", "prompt_tokens", "max_tokens", "temperature",
                                       "top_p", "top_k", "seed", "threads"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  // Exactly one: with both, --prompt_tokens was silently dropped; with neither the error
  // named only --prompt_tokens.
  if (flags.Has("prompt") == flags.Has("prompt_tokens")) {
    return absl::InvalidArgumentError("give exactly one of --prompt TEXT and --prompt_tokens \"1 2 3\"");
  }
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<int32_t> prompt;
  if (flags.Has("prompt")) {
    ASSIGN_OR_RETURN(tokenizer, LoadToolTokenizer(""));
    ASSIGN_OR_RETURN(const std::string text, flags.Required("prompt"));
    ASSIGN_OR_RETURN(prompt, RenderUserPrompt(*tokenizer, text));
  } else {
    ASSIGN_OR_RETURN(const std::string prompt_text, flags.Required("prompt_tokens"));
    ASSIGN_OR_RETURN(prompt, ParseIdList(prompt_text, "prompt_tokens"));
  }
  GenerateOptions options;
  ASSIGN_OR_RETURN(const int64_t max_tokens, flags.GetIntInRange("max_tokens", 64, 0, INT32_MAX));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetIntInRange("threads", 0, 0, kMaxThreadsFlag));
  ASSIGN_OR_RETURN(const int64_t seed, flags.GetInt("seed", 0));
  options.max_tokens = static_cast<int>(max_tokens);
  options.seed = static_cast<uint64_t>(seed);
  load.threads = static_cast<int>(threads);
  if (flags.Has("temperature")) {
    ASSIGN_OR_RETURN(const double t, flags.GetDouble("temperature", 1.0));
    options.temperature = static_cast<float>(t);
  }
  if (flags.Has("top_p")) {
    ASSIGN_OR_RETURN(const double p, flags.GetDouble("top_p", 1.0));
    options.top_p = static_cast<float>(p);
  }
  if (flags.Has("top_k")) {
    ASSIGN_OR_RETURN(const int64_t k, flags.GetIntInRange("top_k", 0, 0, INT32_MAX));
    options.top_k = static_cast<int>(k);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  if (tokenizer != nullptr && engine->config().vocab_size < static_cast<int>(tokenizer->vocab_size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the checkpoint in ", load.model_dir, " has a vocabulary of ", engine->config().vocab_size,
        " tokens; --prompt renders a harmony conversation with the o200k_harmony tokenizer, which needs ",
        tokenizer->vocab_size(), " (use --prompt_tokens with ids below ", engine->config().vocab_size, ")"));
  }
  ASSIGN_OR_RETURN(const GenerateResult result,
                   engine->Generate(prompt, options, [&tokenizer](int32_t token) {
                     if (tokenizer == nullptr) {
                       std::printf("%d ", token);
                       std::fflush(stdout);
                     }
                     return true;
                   }));
  if (tokenizer != nullptr) {
    std::printf("%s", CompletionText(*tokenizer, result.tokens).c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
  std::fprintf(stderr, "generated %zu tokens; peak_rss_mb %.1f\n", result.tokens.size(),
               ReadProcessMemory().peak_resident_mb);
  return absl::OkStatus();
}

}  // namespace warden::model::tools
