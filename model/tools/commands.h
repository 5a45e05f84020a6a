// The oss subcommands. Each takes the arguments after its name and returns a status; the
// dispatch table in oss_main.cc maps names to these functions.
#ifndef WARDEN_MODEL_TOOLS_COMMANDS_H_
#define WARDEN_MODEL_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/tokenizer/tokenizer.h"

namespace warden::model::tools {

using Args = std::vector<std::string>;

absl::Status RunLogits(const Args& args);          // logits_command.cc
absl::Status RunGenerate(const Args& args);        // generate_command.cc
absl::Status RunMakeCheckpoint(const Args& args);  // make_checkpoint_command.cc
absl::Status RunBench(const Args& args);           // bench_command.cc
absl::Status RunTokenize(const Args& args);        // tokenize_command.cc
absl::Status RunQuantizeExperts(const Args& args);  // quantize_experts_command.cc

// The tokenizer at `path` (file or checkpoint dir), or the shipped o200k_harmony one.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadToolTokenizer(const std::string& path);

}  // namespace warden::model::tools

#endif  // WARDEN_MODEL_TOOLS_COMMANDS_H_
