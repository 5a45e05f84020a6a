#include "tests/tools/script_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::scripted {
namespace {

// Phase margins shrink as 1/|S| − 1/|T| (see PhaseReadout); 3 keeps them >= kMinimumMargin
// for scripts whose earlier messages have up to two distinct channel names. It stays below
// kPrevWeight, so a phase match never outweighs a token mismatch of another rule.
constexpr double kPhaseWeight = 3.0;

bool IsStop(int32_t token) { return token == kReturnToken || token == kCallToken; }

absl::StatusOr<std::vector<int32_t>> BuildChain(absl::Span<const int32_t> prompt_tail,
                                                absl::Span<const int32_t> script, int vocab_size) {
  if (prompt_tail.size() < 2) {
    return absl::InvalidArgumentError(
        "prompt tail needs at least two tokens (e.g. <|start|>assistant)");
  }
  if (script.empty()) return absl::InvalidArgumentError("script is empty");
  std::vector<int32_t> chain(prompt_tail.begin(), prompt_tail.end());
  chain.insert(chain.end(), script.begin(), script.end());
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i] < 0 || chain[i] >= vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", chain[i], " at chain position ",
                                                     i, " is outside the vocabulary of ",
                                                     vocab_size));
    }
  }
  for (size_t i = prompt_tail.size(); i + 1 < chain.size(); ++i) {
    if (IsStop(chain[i])) {
      return absl::InvalidArgumentError(absl::StrCat("script token ", i - prompt_tail.size(),
                                                     " (id ", chain[i],
                                                     ") is a stop token before the script's end"));
    }
  }
  if (!IsStop(chain.back())) chain.push_back(kReturnToken);
  return chain;
}

// Channel names of every message but the last: the tokens right after <|channel|>. The
// last message's channel is left out because prompts of multi-turn chats contain it
// (earlier final answers), which would disturb the phase seen at the script's start.
std::vector<int32_t> ChooseLandmarks(const std::vector<int32_t>& chain, int script_begin) {
  std::vector<int32_t> names;
  for (size_t i = script_begin; i + 1 < chain.size(); ++i) {
    if (chain[i] == kChannelToken) names.push_back(chain[i + 1]);
  }
  if (!names.empty()) names.pop_back();
  std::vector<int32_t> landmarks;
  for (int32_t name : names) {
    if (std::count(chain.begin(), chain.end(), name) == 1) landmarks.push_back(name);
  }
  return landmarks;
}

// The phase the landmark head computes at chain position `step`: the mean one-hot of the
// landmarks among chain[0..step], or "none".
std::vector<double> PhaseAt(const ScriptPlan& plan, int step) {
  std::vector<double> phase(plan.phase_width(), 0.0);
  int seen = 0;
  for (int i = 0; i <= step; ++i) {
    for (size_t l = 0; l < plan.landmarks.size(); ++l) {
      if (plan.chain[i] == plan.landmarks[l]) {
        phase[1 + l] += 1.0;
        ++seen;
      }
    }
  }
  if (seen == 0) {
    phase[0] = 1.0;
  } else {
    for (double& p : phase) p /= seen;
  }
  return phase;
}

std::string ContextText(const ScriptPlan& plan, int step) {
  return absl::StrCat("(", plan.chain[step - 1], ", ", plan.chain[step], ")");
}

// Index in the script of the token at chain index `index` (-1, -2 for the prompt tail).
int ScriptIndex(const ScriptPlan& plan, int index) { return index - plan.script_begin; }

// Readout weights for a rule learned at phase f = 1_T/|T| (T: the landmarks seen, or
// {none}): w = 1_T/|T| − 1_(not T). Against the phase f_S of another step, <w, f_S> is
// 1/|S| when S == T and at least min(1/|S| − 1/|T|, 1/|S|·|S \ T|) less otherwise, so the
// exact phase wins even though the head averages the landmarks (a plain f would tie a
// rule learned after landmark a with one learned after a and b).
std::vector<double> PhaseReadout(const std::vector<double>& learned) {
  std::vector<double> w(learned.size());
  for (size_t i = 0; i < learned.size(); ++i) w[i] = learned[i] > 0.0 ? learned[i] : -1.0;
  return w;
}

// The phase only has to separate contexts whose two tokens have several successors.
// Elsewhere it would only add score to the rule's successor at unrelated steps with the
// same phase (the readout is linear), so those rules drop it and merge into one per pair.
void DropUnneededPhases(ScriptPlan* plan) {
  std::map<std::pair<int, int>, std::set<int32_t>> successors;
  for (const Rule& rule : plan->rules)
    successors[{rule.prev_slot, rule.cur_slot}].insert(rule.next);
  std::vector<Rule> kept;
  std::set<std::pair<int, int>> merged;
  for (Rule& rule : plan->rules) {
    const std::pair<int, int> pair = {rule.prev_slot, rule.cur_slot};
    if (successors[pair].size() > 1) {
      rule.phase = PhaseReadout(rule.phase);
      kept.push_back(std::move(rule));
    } else if (merged.insert(pair).second) {
      rule.phase.assign(rule.phase.size(), 0.0);
      kept.push_back(std::move(rule));
    }
  }
  plan->rules = std::move(kept);
}

// Fills plan->rules from the chain; INVALID_ARGUMENT when one context needs two successors.
absl::Status BuildRules(ScriptPlan* plan) {
  plan->rules.clear();
  std::map<std::tuple<int, int, std::vector<double>>, int> first_step;  // context -> step
  for (int step = plan->script_begin - 1; step + 1 < static_cast<int>(plan->chain.size()); ++step) {
    Rule rule{plan->SlotOf(plan->chain[step - 1]), plan->SlotOf(plan->chain[step]),
              PhaseAt(*plan, step), plan->chain[step + 1]};
    const auto key = std::make_tuple(rule.prev_slot, rule.cur_slot, rule.phase);
    const auto [it, inserted] = first_step.emplace(key, step);
    if (inserted) {
      plan->rules.push_back(std::move(rule));
      continue;
    }
    const int32_t earlier_next = plan->chain[it->second + 1];
    if (earlier_next != rule.next) {
      return absl::InvalidArgumentError(absl::StrCat(
          "script is ambiguous for the scripted model: the tokens ", ContextText(*plan, step),
          " are followed by ", earlier_next, " at script token ",
          ScriptIndex(*plan, it->second + 1), " but by ", rule.next, " at script token ",
          ScriptIndex(*plan, step + 1),
          "; the model sees only the last two tokens and the channel names of earlier messages, so "
          "choose a script without this repetition"));
    }
  }
  DropUnneededPhases(plan);
  return absl::OkStatus();
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) sum += a[i] * b[i];
  return sum;
}

absl::Status VerifyScores(const ScriptPlan& plan) {
  for (int step = plan.script_begin - 1; step + 1 < static_cast<int>(plan.chain.size()); ++step) {
    const int32_t want = plan.chain[step + 1];
    double want_score = 0.0, best_other = 0.0;  // tokens without rules score 0
    int32_t best_other_token = -1;
    for (const auto& [token, score] : ScoreCandidates(plan, step)) {
      if (token == want) {
        want_score = score;
      } else if (score > best_other) {
        best_other = score;
        best_other_token = token;
      }
    }
    if (want_score < best_other + kMinimumMargin) {
      return absl::InvalidArgumentError(absl::StrCat(
          "script cannot be followed by the scripted model: after ", ContextText(plan, step),
          " script token ", ScriptIndex(plan, step + 1), " (id ", want, ")", " scores ", want_score,
          " but token ", best_other_token, " scores ", best_other,
          "; repeated tokens in the script confuse it, choose a script with fewer repetitions"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int ScriptPlan::SlotOf(int32_t token) const {
  const auto it = std::find(slot_tokens.begin(), slot_tokens.end(), token);
  return it == slot_tokens.end() ? sink_slot() : static_cast<int>(it - slot_tokens.begin());
}

std::vector<int32_t> ScriptPlan::script() const {
  return std::vector<int32_t>(chain.begin() + script_begin, chain.end());
}

std::vector<Readout> Readouts(const ScriptPlan& plan) {
  std::map<int32_t, Readout> by_token;
  for (const Rule& rule : plan.rules) {
    Readout& r = by_token[rule.next];
    r.token = rule.next;
    if (r.phase.empty()) r.phase.assign(plan.phase_width(), 0.0);
    if (std::find(r.cur_slots.begin(), r.cur_slots.end(), rule.cur_slot) == r.cur_slots.end()) {
      r.cur_slots.push_back(rule.cur_slot);
    }
    if (std::find(r.prev_slots.begin(), r.prev_slots.end(), rule.prev_slot) == r.prev_slots.end()) {
      r.prev_slots.push_back(rule.prev_slot);
    }
    for (size_t i = 0; i < r.phase.size() && i < rule.phase.size(); ++i)
      r.phase[i] += rule.phase[i];
  }
  std::vector<Readout> out;
  for (auto& [token, readout] : by_token) out.push_back(std::move(readout));
  return out;
}

std::vector<std::pair<int32_t, double>> ScoreCandidates(const ScriptPlan& plan, int step) {
  const int cur = plan.SlotOf(plan.chain[step]);
  const int prev = plan.SlotOf(plan.chain[step - 1]);
  const std::vector<double> phase = PhaseAt(plan, step);
  std::map<int32_t, double> scores;
  scores[kReturnToken] = cur == plan.sink_slot() ? kSinkRuleWeight : 0.0;
  for (const Readout& r : Readouts(plan)) {
    const bool cur_match =
        std::find(r.cur_slots.begin(), r.cur_slots.end(), cur) != r.cur_slots.end();
    const bool prev_match =
        std::find(r.prev_slots.begin(), r.prev_slots.end(), prev) != r.prev_slots.end();
    scores[r.token] +=
        kCurWeight * cur_match + kPrevWeight * prev_match + plan.phase_weight * Dot(r.phase, phase);
  }
  return std::vector<std::pair<int32_t, double>>(scores.begin(), scores.end());
}

absl::StatusOr<ScriptPlan> PlanScript(absl::Span<const int32_t> prompt_tail,
                                      absl::Span<const int32_t> script, int vocab_size) {
  ScriptPlan plan;
  ASSIGN_OR_RETURN(plan.chain, BuildChain(prompt_tail, script, vocab_size));
  plan.script_begin = static_cast<int>(prompt_tail.size());
  for (int32_t token : plan.chain) {
    if (std::find(plan.slot_tokens.begin(), plan.slot_tokens.end(), token) ==
        plan.slot_tokens.end()) {
      plan.slot_tokens.push_back(token);
    }
  }
  // Two tokens of context first; channel-name landmarks only when those are not enough.
  absl::Status status = BuildRules(&plan);
  if (status.ok()) status = VerifyScores(plan);
  if (status.ok()) return plan;
  plan.landmarks = ChooseLandmarks(plan.chain, plan.script_begin);
  if (plan.landmarks.empty()) return status;
  plan.phase_weight = kPhaseWeight;
  RETURN_IF_ERROR(BuildRules(&plan));
  RETURN_IF_ERROR(VerifyScores(plan));
  return plan;
}

}  // namespace warden::scripted
