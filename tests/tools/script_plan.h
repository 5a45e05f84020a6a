// Plans a "scripted" gpt-oss model: which context (previous token, current token, channels
// opened so far) must be followed by which token so that greedy decoding after a prompt
// ending in `prompt_tail` emits exactly `script`. The plan is pure data; scripted_weights.h
// turns it into tensors. Planning also simulates the model's scores for every step of the
// script and rejects scripts the model cannot follow, so a plan that exists is followed
// exactly (up to rounding margins far larger than bf16 errors).
//
// How the model decides (see scripted_weights.h for the tensors):
// - "cur": the current token's slot (its one-hot embedding). Tokens outside the script
//   share the sink slot, whose successor is <|return|>.
// - "prev": the previous token's slot, copied by a sliding-window attention head.
// - "phase": which landmark tokens (channel names of earlier messages) appeared so far,
//   averaged by a full-attention head; "none" when no landmark appeared.
// A candidate u scores kCurWeight if cur is the current slot of any of its rules (contexts
// followed by u), plus kPrevWeight if prev is the previous slot of any of them, plus
// phase_weight·<r.phase, phase> summed over its rules; the phase term is used only by rules
// whose two tokens have several successors in the script.
//
// Thread safety: value types and pure functions.
#ifndef WARDEN_TESTS_TOOLS_SCRIPT_PLAN_H_
#define WARDEN_TESTS_TOOLS_SCRIPT_PLAN_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace warden::scripted {

inline constexpr int32_t kStartToken = 200006;    // <|start|>
inline constexpr int32_t kChannelToken = 200005;  // <|channel|>
inline constexpr int32_t kReturnToken = 200002;   // <|return|>
inline constexpr int32_t kCallToken = 200012;     // <|call|>

// One context and the token that must follow it.
struct Rule {
  int prev_slot = 0;
  int cur_slot = 0;
  // Readout weights over the phase [1 + landmarks] (index 0 = no landmark yet): positive
  // on the phase the rule was learned at, -1 elsewhere; all zero when the two tokens alone
  // decide the successor.
  std::vector<double> phase;
  int32_t next = 0;
};

struct ScriptPlan {
  // prompt_tail followed by the script; the script always ends with a stop token.
  std::vector<int32_t> chain;
  // Index of chain's first script token (== prompt_tail.size()).
  int script_begin = 0;
  // Distinct chain tokens; a token's slot is its index. The sink slot is slot_tokens.size().
  std::vector<int32_t> slot_tokens;
  // Landmark token ids; phase index 1 + i is landmarks[i].
  std::vector<int32_t> landmarks;
  double phase_weight = 0.0;  // 0 when landmarks is empty
  std::vector<Rule> rules;    // one per distinct context of the chain

  int sink_slot() const { return static_cast<int>(slot_tokens.size()); }
  int num_slots() const { return sink_slot() + 1; }
  int phase_width() const { return 1 + static_cast<int>(landmarks.size()); }
  // The token's slot, or sink_slot() for tokens outside the chain.
  int SlotOf(int32_t token) const;
  // The script's tokens (chain without the prompt tail).
  std::vector<int32_t> script() const;
};

// Score weights of a rule's parts (see the top of this file). The readout is linear, so a
// candidate collects the phase term of each of its rules even where their tokens do not
// match; token weights well above the phase weight keep those terms from deciding.
inline constexpr double kCurWeight = 8.0;
inline constexpr double kPrevWeight = 4.0;
// Weight of the sink rule "off-script token -> <|return|>".
inline constexpr double kSinkRuleWeight = 16.0;
// Smallest score lead (in units above) the correct successor must have at every step.
inline constexpr double kMinimumMargin = 0.5;

// Plans `script` after a prompt ending in `prompt_tail` (normally the ids of
// "<|start|>assistant"). A script not ending in <|return|> or <|call|> gets <|return|>
// appended. INVALID_ARGUMENT, naming the step and tokens, when prompt_tail has fewer than
// two tokens, the script is empty, a stop token occurs before its end, a token id is
// negative or >= vocab_size, or two steps share a context but need different successors.
absl::StatusOr<ScriptPlan> PlanScript(absl::Span<const int32_t> prompt_tail,
                                      absl::Span<const int32_t> script, int vocab_size);

// The lm_head row of one successor token: the cur and prev slots of its rules, each counted
// once (a token that follows "." in two places must not score double after every "."), and
// the sum of its rules' phase readouts.
struct Readout {
  int32_t token = 0;
  std::vector<int> cur_slots;
  std::vector<int> prev_slots;
  std::vector<double> phase;
};
// One Readout per distinct successor in plan.rules, sorted by token.
std::vector<Readout> Readouts(const ScriptPlan& plan);

// Scores of every candidate with a rule at chain step `step` (the context ends at
// chain[step]); returns (token, score) pairs, <|return|> included via the sink rule.
std::vector<std::pair<int32_t, double>> ScoreCandidates(const ScriptPlan& plan, int step);

}  // namespace warden::scripted

#endif  // WARDEN_TESTS_TOOLS_SCRIPT_PLAN_H_
