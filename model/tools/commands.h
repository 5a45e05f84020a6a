// The oss subcommands. Each takes the arguments after its name and returns a status; the
// dispatch table in oss_main.cc maps names to these functions (add `tokenize` there).
#ifndef WARDEN_MODEL_TOOLS_COMMANDS_H_
#define WARDEN_MODEL_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace warden::model::tools {

using Args = std::vector<std::string>;

absl::Status RunLogits(const Args& args);          // logits_command.cc
absl::Status RunGenerate(const Args& args);        // generate_command.cc
absl::Status RunMakeCheckpoint(const Args& args);  // make_checkpoint_command.cc
absl::Status RunBench(const Args& args);           // bench_command.cc

// Peak and current resident memory of this process in MiB (from /proc/self/status).
double PeakResidentMb();
double ResidentMb();

}  // namespace warden::model::tools

#endif  // WARDEN_MODEL_TOOLS_COMMANDS_H_
