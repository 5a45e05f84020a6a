// `classifier ensemble`: combines a linear and an embedding-bag model into one ensemble file,
// optionally with a stacking layer (moderation/stacking.h), and chooses its thresholds on
// the development rows. Flags are documented in classifier_main.cc.
//
// Thread safety: runs on the calling thread; no shared state.
#ifndef WARDEN_MODERATION_TOOLS_ENSEMBLE_COMMAND_H_
#define WARDEN_MODERATION_TOOLS_ENSEMBLE_COMMAND_H_

#include "absl/status/status.h"
#include "moderation/tools/tool_flags.h"

namespace warden::moderation::tools {

absl::Status EnsembleCommand(const Flags& flags);

}  // namespace warden::moderation::tools

#endif  // WARDEN_MODERATION_TOOLS_ENSEMBLE_COMMAND_H_
