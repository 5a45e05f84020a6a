// oss logits: runs a token sequence through the engine and writes every position's
// logits as float32 little-endian, shape [tokens, vocab], row-major.
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"
#include "model/tools/float_output.h"

namespace warden::model::tools {

absl::Status RunLogits(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags, Flags::Parse(args, {"model_dir", "tokens", "out", "threads"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  ASSIGN_OR_RETURN(const std::string tokens_text, flags.Required("tokens"));
  ASSIGN_OR_RETURN(const std::string out_path, flags.Required("out"));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetIntInRange("threads", 0, 0, kMaxThreadsFlag));
  load.threads = static_cast<int>(threads);
  ASSIGN_OR_RETURN(const std::vector<int32_t> tokens, ParseIdList(tokens_text, "tokens"));
  if (tokens.empty()) return absl::InvalidArgumentError("flag --tokens holds no ids");
  // Opened first: an unwritable --out is refused before a large checkpoint loads.
  ASSIGN_OR_RETURN(FilePtr out, OpenFloatOutput(out_path));
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  const SequenceId sequence = engine->CreateSequence();
  ASSIGN_OR_RETURN(const std::vector<float> logits, engine->Prefill(sequence, tokens, /*all_positions=*/true));
  return WriteFloatsAndClose(std::move(out), out_path, logits);
}

}  // namespace warden::model::tools
