// Plans a scripted model from harmony TEXT: the prompt tail and the script are trusted test
// inputs in which special-token strings (<|channel|>, <|message|>, ...) are recognised.
// Thread safety: pure function; the tokenizer is only read.
#ifndef WARDEN_TESTS_TOOLS_SCRIPT_TEXT_H_
#define WARDEN_TESTS_TOOLS_SCRIPT_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tools/script_plan.h"

namespace warden::scripted {

inline constexpr char kDefaultPromptTail[] = "<|start|>assistant";

// Encodes both texts with every special token allowed and calls PlanScript with the
// tokenizer's vocabulary size. Errors as PlanScript and Tokenizer::EncodeWithSpecials.
absl::StatusOr<ScriptPlan> PlanScriptText(const model::Tokenizer& tokenizer,
                                          const std::string& prompt_tail,
                                          const std::string& script);

}  // namespace warden::scripted

#endif  // WARDEN_TESTS_TOOLS_SCRIPT_TEXT_H_
