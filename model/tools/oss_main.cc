// `oss`: command-line tools around the gpt-oss engine. See ARCHITECTURE.md ("Tools the
// checks call") for the contract of each subcommand's flags and output.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "model/kernels/openmp_env.h"
#include "model/tools/commands.h"

namespace {

struct Command {
  const char* name;
  absl::Status (*run)(const warden::model::tools::Args&);
  const char* usage;
};

constexpr Command kCommands[] = {
    {"tokenize", warden::model::tools::RunTokenize,
     "tokenize [--tokenizer PATH]  (JSON lines {\"text\": ...} on stdin -> {\"ids\": [...]})"},
    {"logits", warden::model::tools::RunLogits,
     "logits --model_dir DIR --tokens \"1 2 3\" --out FILE [--threads N]  (float32 LE [tokens, vocab])"},
    {"generate", warden::model::tools::RunGenerate,
     "generate --model_dir DIR (--prompt TEXT | --prompt_tokens \"1 2 3\") --max_tokens N "
     "[--temperature T --top_p P --top_k K --seed S --threads N]"},
    {"make-checkpoint", warden::model::tools::RunMakeCheckpoint,
     "make-checkpoint --out DIR --preset tiny|20b|120b [--layers N] [--seed S] [--max_shard_mb M]  "
     "(rewrites only a new, empty or earlier make-checkpoint directory)"},
    {"quantize-experts", warden::model::tools::RunQuantizeExperts,
     "quantize-experts --model_dir DIR --out DIR  (MXFP4 copy of a checkpoint with unquantised experts)"},
    {"bench", warden::model::tools::RunBench,
     "bench --model_dir DIR --prompt_tokens P --gen_tokens G --batch B[,B...] --threads T "
     "[--weights exact|fast] [--weight_memory resident|mapped] [--seed S]"},
};

bool IsHelp(const char* arg) { return std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0; }

// To stdout when asked for (so `oss help | less` works), to stderr after a mistake.
void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: oss COMMAND [flags]\n");
  for (const Command& command : kCommands) std::fprintf(out, "  %s\n", command.usage);
}

}  // namespace

int main(int argc, char** argv) {
  warden::model::ReexecWithShortOpenMpSpinIfUnset(argv);
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  if (IsHelp(argv[1]) || std::strcmp(argv[1], "help") == 0) {
    PrintUsage(stdout);
    return 0;
  }
  for (const Command& command : kCommands) {
    if (std::strcmp(argv[1], command.name) != 0) continue;
    // `oss logits --help` read --help as a flag without a value (exit 1, no usage).
    if (argc > 2 && (IsHelp(argv[2]) || IsHelp(argv[argc - 1]))) {
      std::printf("usage: oss %s\n", command.usage);
      return 0;
    }
    absl::Status status = command.run(warden::model::tools::Args(argv + 2, argv + argc));
    // A full disk under `oss bench > out.json` lost the output behind exit 0.
    if (status.ok() && (std::fflush(stdout) != 0 || std::ferror(stdout))) {
      status = absl::DataLossError("writing standard output failed");
    }
    if (!status.ok()) {
      std::fprintf(stderr, "oss %s: %s\n", command.name, status.ToString().c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "oss: unknown command '%s'\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
