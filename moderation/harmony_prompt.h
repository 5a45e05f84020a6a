// Renders a gpt-oss-safeguard style classification prompt in harmony token ids, split so
// that everything that depends only on the policy forms a reusable prefix:
//
//   prefix:  <|start|>system<|message|>{system text}<|end|>
//            <|start|>developer<|message|># Instructions\n\n{policy}<|end|>
//   content: <|start|>user<|message|>{text}<|end|><|start|>assistant<|channel|>final<|message|>
//
// The label is then read at the first position of the final answer (see the appendix of
// shared/spec/harmony-format.md). Role names and texts go through the backend's plain-text
// tokenizer; special tokens are only ever inserted as ids here, so user text cannot forge
// them.
//
// Thread safety: pure functions.
#ifndef WARDEN_MODERATION_HARMONY_PROMPT_H_
#define WARDEN_MODERATION_HARMONY_PROMPT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/llm_backend.h"

namespace warden::moderation {

// Harmony special token ids of the o200k_harmony vocabulary.
inline constexpr uint32_t kHarmonyStart = 200006;
inline constexpr uint32_t kHarmonyEnd = 200007;
inline constexpr uint32_t kHarmonyMessage = 200008;
inline constexpr uint32_t kHarmonyChannel = 200005;

struct HarmonyPromptOptions {
  std::string reasoning = "low";             // "low" | "medium" | "high"
  std::string knowledge_cutoff = "2024-06";
  std::string current_date;                  // empty: no "Current date:" line
};

// The system message text for `options` (identity, dates, reasoning, valid channels).
std::string HarmonySystemText(const HarmonyPromptOptions& options);

absl::StatusOr<std::vector<uint32_t>> RenderPolicyPrefix(const LlmBackend& tokenizer,
                                                         std::string_view policy,
                                                         const HarmonyPromptOptions& options);

absl::StatusOr<std::vector<uint32_t>> RenderContent(const LlmBackend& tokenizer,
                                                    std::string_view text);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_HARMONY_PROMPT_H_
