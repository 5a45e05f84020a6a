// oss generate: samples a completion. Until the tokenizer is wired, the prompt comes as
// ids (--prompt_tokens) and the completion is printed as ids; --prompt TEXT reports
// UNIMPLEMENTED. Peak resident memory goes to stderr.
#include <cstdio>
#include <memory>

#include "base/status_macros.h"
#include "model/engine.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {

absl::Status RunGenerate(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags,
                   Flags::Parse(args, {"model_dir", "prompt", "prompt_tokens", "max_tokens", "temperature",
                                       "top_p", "top_k", "seed", "threads"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  if (flags.Has("prompt")) {
    return absl::UnimplementedError(
        "--prompt TEXT needs the o200k tokenizer, which is not wired into oss yet; pass ids with "
        "--prompt_tokens \"1 2 3\"");
  }
  ASSIGN_OR_RETURN(const std::string prompt_text, flags.Required("prompt_tokens"));
  ASSIGN_OR_RETURN(const std::vector<int32_t> prompt, ParseIdList(prompt_text, "prompt_tokens"));
  GenerateOptions options;
  ASSIGN_OR_RETURN(const int64_t max_tokens, flags.GetInt("max_tokens", 64));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetInt("threads", 0));
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
    ASSIGN_OR_RETURN(const int64_t k, flags.GetInt("top_k", 0));
    options.top_k = static_cast<int>(k);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  ASSIGN_OR_RETURN(const GenerateResult result,
                   engine->Generate(prompt, options, [](int32_t token) {
                     std::printf("%d ", token);
                     std::fflush(stdout);
                     return true;
                   }));
  std::printf("\n");
  std::fprintf(stderr, "generated %zu tokens; peak_rss_mb %.1f\n", result.tokens.size(), PeakResidentMb());
  return absl::OkStatus();
}

}  // namespace warden::model::tools
