// oss logits: runs a token sequence through the engine and writes every position's
// logits as float32 little-endian, shape [tokens, vocab], row-major.
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {

absl::Status RunLogits(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags, Flags::Parse(args, {"model_dir", "tokens", "out", "threads"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  ASSIGN_OR_RETURN(const std::string tokens_text, flags.Required("tokens"));
  ASSIGN_OR_RETURN(const std::string out_path, flags.Required("out"));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetInt("threads", 0));
  load.threads = static_cast<int>(threads);
  ASSIGN_OR_RETURN(const std::vector<int32_t> tokens, ParseIdList(tokens_text, "tokens"));
  if (tokens.empty()) return absl::InvalidArgumentError("flag --tokens holds no ids");
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  const SequenceId sequence = engine->CreateSequence();
  ASSIGN_OR_RETURN(const std::vector<float> logits, engine->Prefill(sequence, tokens, /*all_positions=*/true));
  std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(out_path.c_str(), "wb"), &std::fclose);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(out_path, ": cannot write"));
  // x86-64 is little-endian, so the floats go out as they are.
  if (std::fwrite(logits.data(), sizeof(float), logits.size(), out.get()) != logits.size()) {
    return absl::DataLossError(absl::StrCat(out_path, ": short write"));
  }
  return absl::OkStatus();
}

}  // namespace warden::model::tools
