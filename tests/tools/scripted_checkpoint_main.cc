// scripted_checkpoint --out DIR (--script TEXT | --script_file PATH)
//     [--prompt_tail TEXT] [--tokenizer PATH]
// Writes a gpt-oss checkpoint (Hugging Face layout, o200k_harmony vocabulary) whose
// decoding after a prompt ending in the prompt tail (default "<|start|>assistant") emits
// the script's tokens, then <|return|> (appended unless the script ends with <|return|> or
// <|call|>). Special-token strings in the script and tail are recognised. Prints the
// script's token ids as JSON on stdout.
#include <cstdio>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "model/config.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tools/script_text.h"
#include "tests/tools/scripted_weights.h"

namespace warden::scripted {
namespace {

constexpr char kUsage[] =
    "usage: scripted_checkpoint --out DIR (--script TEXT | --script_file PATH) "
    "[--prompt_tail TEXT] [--tokenizer PATH]";

absl::StatusOr<std::map<std::string, std::string>> ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> flags = {{"prompt_tail", kDefaultPromptTail},
                                              {"tokenizer", model::Tokenizer::DefaultVocabPath()}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    arg = arg.substr(2);
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", arg, " needs a value"));
    }
  }
  for (const auto& [name, value] : flags) {
    if (name != "out" && name != "script" && name != "script_file" && name != "prompt_tail" &&
        name != "tokenizer") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  if (flags.count("out") == 0 || (flags.count("script") + flags.count("script_file")) != 1) {
    return absl::InvalidArgumentError("need --out and exactly one of --script, --script_file");
  }
  return flags;
}

absl::Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(auto flags, ParseFlags(argc, argv));
  std::string script = flags["script"];
  if (flags.count("script_file") != 0) {
    ASSIGN_OR_RETURN(script, model::ReadSmallFile(flags["script_file"]));
  }
  ASSIGN_OR_RETURN(const auto tokenizer, model::Tokenizer::LoadFromPath(flags["tokenizer"]));
  ASSIGN_OR_RETURN(const ScriptPlan plan, PlanScriptText(*tokenizer, flags["prompt_tail"], script));
  ASSIGN_OR_RETURN(const ScriptedCheckpoint checkpoint,
                   BuildScriptedCheckpoint(plan, static_cast<int>(tokenizer->vocab_size())));
  RETURN_IF_ERROR(WriteScriptedCheckpoint(flags["out"], checkpoint));
  std::printf("{\"script_ids\": [%s], \"landmarks\": [%s]}\n",
              absl::StrJoin(plan.script(), ", ").c_str(),
              absl::StrJoin(plan.landmarks, ", ").c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace warden::scripted

int main(int argc, char** argv) {
  const absl::Status status = warden::scripted::Run(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "scripted_checkpoint: %s\n%s\n", status.ToString().c_str(),
                 warden::scripted::kUsage);
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
