#include "tests/tools/script_text.h"

#include <vector>

#include "base/status_macros.h"

namespace warden::scripted {
namespace {

absl::StatusOr<std::vector<int32_t>> Encode(const model::Tokenizer& tokenizer,
                                            const std::string& text) {
  ASSIGN_OR_RETURN(const std::vector<uint32_t> ids,
                   tokenizer.EncodeWithSpecials(text, model::AllowedSpecials::All()));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

}  // namespace

absl::StatusOr<ScriptPlan> PlanScriptText(const model::Tokenizer& tokenizer,
                                          const std::string& prompt_tail,
                                          const std::string& script) {
  ASSIGN_OR_RETURN(const std::vector<int32_t> tail, Encode(tokenizer, prompt_tail));
  ASSIGN_OR_RETURN(const std::vector<int32_t> ids, Encode(tokenizer, script));
  return PlanScript(tail, ids, static_cast<int>(tokenizer.vocab_size()));
}

}  // namespace warden::scripted
