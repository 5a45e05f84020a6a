#include "moderation/harmony_prompt.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

absl::Status AppendText(const LlmBackend& tokenizer, std::string_view text,
                        std::vector<uint32_t>& out) {
  ASSIGN_OR_RETURN(const std::vector<uint32_t> ids, tokenizer.Tokenize(text));
  out.insert(out.end(), ids.begin(), ids.end());
  return absl::OkStatus();
}

// <|start|>{role}<|message|>{content}<|end|>
absl::Status AppendMessage(const LlmBackend& tokenizer, std::string_view role,
                           std::string_view content, std::vector<uint32_t>& out) {
  out.push_back(kHarmonyStart);
  RETURN_IF_ERROR(AppendText(tokenizer, role, out));
  out.push_back(kHarmonyMessage);
  RETURN_IF_ERROR(AppendText(tokenizer, content, out));
  out.push_back(kHarmonyEnd);
  return absl::OkStatus();
}

}  // namespace

std::string HarmonySystemText(const HarmonyPromptOptions& options) {
  std::string text = absl::StrCat(
      "You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: ",
      options.knowledge_cutoff, "\n");
  if (!options.current_date.empty()) absl::StrAppend(&text, "Current date: ", options.current_date, "\n");
  absl::StrAppend(&text, "\nReasoning: ", options.reasoning,
                  "\n\n# Valid channels: analysis, commentary, final. Channel must be included "
                  "for every message.");
  return text;
}

absl::StatusOr<std::vector<uint32_t>> RenderPolicyPrefix(const LlmBackend& tokenizer,
                                                         std::string_view policy,
                                                         const HarmonyPromptOptions& options) {
  std::vector<uint32_t> out;
  RETURN_IF_ERROR(AppendMessage(tokenizer, "system", HarmonySystemText(options), out));
  RETURN_IF_ERROR(AppendMessage(tokenizer, "developer",
                                absl::StrCat("# Instructions\n\n", std::string(policy)), out));
  return out;
}

absl::StatusOr<std::vector<uint32_t>> RenderContent(const LlmBackend& tokenizer,
                                                    std::string_view text) {
  std::vector<uint32_t> out;
  RETURN_IF_ERROR(AppendMessage(tokenizer, "user", text, out));
  out.push_back(kHarmonyStart);
  RETURN_IF_ERROR(AppendText(tokenizer, "assistant", out));
  out.push_back(kHarmonyChannel);
  RETURN_IF_ERROR(AppendText(tokenizer, "final", out));
  out.push_back(kHarmonyMessage);
  return out;
}

}  // namespace warden::moderation
