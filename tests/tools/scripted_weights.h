// Turns a ScriptPlan (script_plan.h) into a real two-layer gpt-oss checkpoint in the Hugging
// Face layout that model::Engine::Load accepts, with the full o200k_harmony vocabulary.
//
// Construction (residual stream of width H, blocks of one-hot directions):
//   [0, S)        cur:   the embedding of a token is the one-hot of its slot (S = slots
//                 incl. the sink shared by every token outside the script);
//   [S, 2S)       prev:  layer 0 (sliding window 2) has one head whose constant q/k biases,
//                 rotated by RoPE pair 0 (1 radian per position), score the previous
//                 position ~40 above the current one; its values copy the cur one-hot;
//   [2S, 2S+P)    phase: layer 1 (full attention) has one head whose keys are large only
//                 for landmark tokens (RoPE's slowest pair, nearly constant), so it averages
//                 the landmarks seen so far; with none, every value is the "none" one-hot.
// Every expert's down projection and bias are zero, so the MLPs add nothing; the sinks are
// -1000, so they take no weight. lm_head row u is 16 × the plan's Readout of u (kCurWeight
// on its cur slots, kPrevWeight on its prev slots, phase_weight·phase), so the logits are the
// plan's scores (margin >= kMinimumMargin = 0.5) times 16·sqrt(H/|x|²) >= 16·sqrt(64/3): every
// wrong token trails by 37+ logits, so sampling at temperature 1 follows the script too.
//
// Thread safety: pure functions.
#ifndef WARDEN_TESTS_TOOLS_SCRIPTED_WEIGHTS_H_
#define WARDEN_TESTS_TOOLS_SCRIPTED_WEIGHTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/config.h"
#include "tests/tools/safetensors_writer.h"
#include "tests/tools/script_plan.h"

namespace warden::scripted {

inline constexpr int kO200kHarmonyVocabSize = 201088;

struct ScriptedCheckpoint {
  model::ModelConfig config;
  std::vector<OutputTensor> tensors;
};

// The config and tensors for `plan`. INVALID_ARGUMENT when the plan has too many distinct
// tokens for one attention head to copy (more than 1,023 slots).
absl::StatusOr<ScriptedCheckpoint> BuildScriptedCheckpoint(const ScriptPlan& plan,
                                                           int vocab_size = kO200kHarmonyVocabSize);

// Creates `out_dir` if needed and writes config.json, generation_config.json and
// model.safetensors.
absl::Status WriteScriptedCheckpoint(const std::string& out_dir,
                                     const ScriptedCheckpoint& checkpoint);

}  // namespace warden::scripted

#endif  // WARDEN_TESTS_TOOLS_SCRIPTED_WEIGHTS_H_
