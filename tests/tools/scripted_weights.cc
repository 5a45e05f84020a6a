#include "tests/tools/scripted_weights.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::scripted {
namespace {

using model::DType;

constexpr int kIntermediate = 32;     // smallest MXFP4-compatible expert width
constexpr float kLogitUnit = 16.0f;   // lm_head entry per score unit (exact in bf16)
constexpr float kSink = -1000.0f;     // attention sinks: never take weight
constexpr double kScoreGap = 40.0;    // attention logit lead of the wanted position(s)
constexpr double kLandmarkKey = 8.0;  // landmark key size before the query scale
constexpr int kMaxHeadDim = 1024;     // ModelConfig::Validate's limit

int RoundUp(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// Widths of the residual blocks (see the header).
struct Layout {
  int slots = 0;
  int phase = 0;
  int hidden = 0;
  int head_dim = 0;
  int prev_begin() const { return slots; }
  int phase_begin() const { return 2 * slots; }
};

absl::StatusOr<Layout> MakeLayout(const ScriptPlan& plan) {
  Layout l;
  l.slots = plan.num_slots();
  l.phase = plan.phase_width();
  const int needed_head_dim = std::max(l.slots, l.phase);
  if (needed_head_dim > kMaxHeadDim - 1) {
    return absl::InvalidArgumentError(absl::StrCat("script has ", l.slots - 1,
                                                   " distinct tokens; the scripted "
                                                   "model supports at most ",
                                                   kMaxHeadDim - 2));
  }
  l.hidden = std::max(64, RoundUp(2 * l.slots + l.phase, 32));
  // At least 32 so RoPE's slowest pair turns by < 1e-8 rad per position (theta 1e9).
  l.head_dim = std::max(32, RoundUp(needed_head_dim, 2));
  return l;
}

model::ModelConfig MakeConfig(const Layout& l, int vocab_size) {
  model::ModelConfig c;
  c.num_layers = 2;
  c.layer_types = {model::AttentionType::kSliding, model::AttentionType::kFull};
  c.hidden_size = l.hidden;
  c.intermediate_size = kIntermediate;
  c.num_experts = 1;
  c.experts_per_token = 1;
  c.num_heads = 1;
  c.num_kv_heads = 1;
  c.head_dim = l.head_dim;
  c.vocab_size = vocab_size;
  c.sliding_window = 2;  // a position sees itself and the one before
  c.rope.factor = 1.0f;  // no YaRN: pair 0 turns exactly 1 radian per position, no concentration
  // Pair 0 ignores theta; a huge theta makes the slowest pair (the landmark head's) turn by
  // ~4e-9 rad per position, so landmark scores do not fade over any context length.
  c.rope.theta = 1e9f;
  return c;
}

void Set(OutputTensor* t, int64_t row, int64_t col, float value) {
  SetFloat(t, row * t->shape[1] + col, value);
}
void Add(OutputTensor* t, int64_t row, int64_t col, float value) {
  const int64_t index = row * t->shape[1] + col;
  SetFloat(t, index, GetFloat(*t, index) + value);
}
OutputTensor Ones(std::string name, int n) {
  OutputTensor t = ZeroTensor(std::move(name), DType::kF32, {n});
  for (int i = 0; i < n; ++i) SetFloat(&t, i, 1.0f);
  return t;
}

// The parts of one attention head that differ between the two layers.
struct Head {
  OutputTensor q_bias, k_weight, k_bias, v_weight, v_bias, o_weight;
};

Head EmptyHead(const std::string& p, const Layout& l) {
  const int d = l.head_dim, h = l.hidden;
  return Head{ZeroTensor(p + "q_proj.bias", DType::kF32, {d}),
              ZeroTensor(p + "k_proj.weight", DType::kBF16, {d, h}),
              ZeroTensor(p + "k_proj.bias", DType::kF32, {d}),
              ZeroTensor(p + "v_proj.weight", DType::kBF16, {d, h}),
              ZeroTensor(p + "v_proj.bias", DType::kF32, {d}),
              ZeroTensor(p + "o_proj.weight", DType::kBF16, {h, d})};
}

// Layer 0: attends to the previous position and writes its cur one-hot into the prev block.
Head PreviousTokenHead(const std::string& p, const Layout& l) {
  Head head = EmptyHead(p, l);
  const int d = l.head_dim;
  // score(offset) = a² cos(offset − 1) / sqrt(D): offset 1 leads offset 0 by kScoreGap.
  const double a = std::sqrt(kScoreGap * std::sqrt(d) / (1.0 - std::cos(1.0)));
  SetFloat(&head.q_bias, 0, static_cast<float>(a));
  SetFloat(&head.k_bias, 0, static_cast<float>(a * std::cos(1.0)));
  SetFloat(&head.k_bias, d / 2, static_cast<float>(a * std::sin(1.0)));
  const float unnorm =
      static_cast<float>(1.0 / std::sqrt(l.hidden));  // undoes RMSNorm of a one-hot
  for (int s = 0; s < l.slots; ++s) {
    Set(&head.v_weight, s, s, unnorm);
    Set(&head.o_weight, l.prev_begin() + s, s, 1.0f);
  }
  return head;
}

// Layer 1: averages the landmark one-hots seen so far ("none" without any).
Head LandmarkHead(const std::string& p, const Layout& l, const ScriptPlan& plan) {
  Head head = EmptyHead(p, l);
  const int d = l.head_dim, slow = d / 2 - 1;  // RoPE's slowest pair: nearly position-free
  const double unnorm = 1.0 / std::sqrt(l.hidden / 2.0);  // input is cur + prev one-hots
  SetFloat(&head.q_bias, slow, static_cast<float>(kScoreGap * std::sqrt(d) / kLandmarkKey));
  SetFloat(&head.v_bias, 0, 1.0f);
  for (size_t i = 0; i < plan.landmarks.size(); ++i) {
    const int slot = plan.SlotOf(plan.landmarks[i]);
    Set(&head.k_weight, slow, slot, static_cast<float>(kLandmarkKey * unnorm));
    Set(&head.v_weight, 1 + static_cast<int>(i), slot, static_cast<float>(unnorm));
    Set(&head.v_weight, 0, slot, static_cast<float>(-unnorm));
  }
  for (int j = 0; j < l.phase; ++j) Set(&head.o_weight, l.phase_begin() + j, j, 1.0f);
  return head;
}

void AddLayer(int n, Head head, const Layout& l, std::vector<OutputTensor>* out) {
  const std::string p = absl::StrCat("model.layers.", n, ".");
  const std::string a = p + "self_attn.", m = p + "mlp.";
  const int h = l.hidden, d = l.head_dim;
  out->push_back(Ones(p + "input_layernorm.weight", h));
  out->push_back(ZeroTensor(a + "q_proj.weight", DType::kBF16, {d, h}));
  out->push_back(std::move(head.q_bias));
  out->push_back(std::move(head.k_weight));
  out->push_back(std::move(head.k_bias));
  out->push_back(std::move(head.v_weight));
  out->push_back(std::move(head.v_bias));
  out->push_back(std::move(head.o_weight));
  out->push_back(ZeroTensor(a + "o_proj.bias", DType::kF32, {h}));
  OutputTensor sinks = ZeroTensor(a + "sinks", DType::kF32, {1});
  SetFloat(&sinks, 0, kSink);
  out->push_back(std::move(sinks));
  out->push_back(Ones(p + "post_attention_layernorm.weight", h));
  out->push_back(ZeroTensor(m + "router.weight", DType::kBF16, {1, h}));
  out->push_back(ZeroTensor(m + "router.bias", DType::kF32, {1}));
  // Zero MXFP4 blocks (nibble 0 is +0) and zero biases: the expert adds exactly nothing.
  OutputTensor up_scales =
      ZeroTensor(m + "experts.gate_up_proj_scales", DType::kU8, {1, 2 * kIntermediate, h / 32});
  OutputTensor down_scales =
      ZeroTensor(m + "experts.down_proj_scales", DType::kU8, {1, h, kIntermediate / 32});
  std::fill(up_scales.data.begin(), up_scales.data.end(), 127);
  std::fill(down_scales.data.begin(), down_scales.data.end(), 127);
  out->push_back(ZeroTensor(m + "experts.gate_up_proj_blocks", DType::kU8,
                            {1, 2 * kIntermediate, h / 32, 16}));
  out->push_back(std::move(up_scales));
  out->push_back(ZeroTensor(m + "experts.gate_up_proj_bias", DType::kF32, {1, 2 * kIntermediate}));
  out->push_back(
      ZeroTensor(m + "experts.down_proj_blocks", DType::kU8, {1, h, kIntermediate / 32, 16}));
  out->push_back(std::move(down_scales));
  out->push_back(ZeroTensor(m + "experts.down_proj_bias", DType::kF32, {1, h}));
}

OutputTensor Embedding(const ScriptPlan& plan, const Layout& l, int vocab_size) {
  OutputTensor t = ZeroTensor("model.embed_tokens.weight", DType::kBF16, {vocab_size, l.hidden});
  for (int token = 0; token < vocab_size; ++token) Set(&t, token, plan.sink_slot(), 1.0f);
  for (int32_t token : plan.slot_tokens) {
    Set(&t, token, plan.sink_slot(), 0.0f);
    Set(&t, token, plan.SlotOf(token), 1.0f);
  }
  return t;
}

OutputTensor Unembedding(const ScriptPlan& plan, const Layout& l, int vocab_size) {
  OutputTensor t = ZeroTensor("lm_head.weight", DType::kBF16, {vocab_size, l.hidden});
  for (const Readout& r : Readouts(plan)) {
    for (int slot : r.cur_slots)
      Add(&t, r.token, slot, static_cast<float>(kCurWeight) * kLogitUnit);
    for (int slot : r.prev_slots) {
      Add(&t, r.token, l.prev_begin() + slot, static_cast<float>(kPrevWeight) * kLogitUnit);
    }
    for (int j = 0; j < l.phase; ++j) {
      Add(&t, r.token, l.phase_begin() + j,
          static_cast<float>(plan.phase_weight * r.phase[j]) * kLogitUnit);
    }
  }
  Add(&t, kReturnToken, plan.sink_slot(), static_cast<float>(kSinkRuleWeight) * kLogitUnit);
  return t;
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) {
    return absl::DataLossError(absl::StrCat(path, ": short write"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ScriptedCheckpoint> BuildScriptedCheckpoint(const ScriptPlan& plan, int vocab_size) {
  if (kReturnToken >= vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("vocabulary of ", vocab_size, " lacks <|return|> (", kReturnToken, ")"));
  }
  for (int32_t token : plan.slot_tokens) {
    if (token < 0 || token >= vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("token ", token, " is outside the vocabulary of ", vocab_size));
    }
  }
  ASSIGN_OR_RETURN(const Layout layout, MakeLayout(plan));
  ScriptedCheckpoint checkpoint;
  checkpoint.config = MakeConfig(layout, vocab_size);
  RETURN_IF_ERROR(checkpoint.config.Validate());
  std::vector<OutputTensor>& out = checkpoint.tensors;
  out.push_back(Embedding(plan, layout, vocab_size));
  AddLayer(0, PreviousTokenHead("model.layers.0.self_attn.", layout), layout, &out);
  AddLayer(1, LandmarkHead("model.layers.1.self_attn.", layout, plan), layout, &out);
  out.push_back(Ones("model.norm.weight", layout.hidden));
  out.push_back(Unembedding(plan, layout, vocab_size));
  return checkpoint;
}

absl::Status WriteScriptedCheckpoint(const std::string& out_dir,
                                     const ScriptedCheckpoint& checkpoint) {
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(
        absl::StrCat(out_dir, ": cannot create: ", std::strerror(errno)));
  }
  RETURN_IF_ERROR(WriteText(out_dir + "/config.json", model::ToHfConfigJson(checkpoint.config)));
  // No sampling defaults: the script's logit margins make any temperature follow it.
  RETURN_IF_ERROR(WriteText(out_dir + "/generation_config.json",
                            R"({"bos_token_id": 199998, "eos_token_id": [200002, 199999, 200012], )"
                            R"("pad_token_id": 199999})"));
  return WriteSafetensors(out_dir + "/model.safetensors", checkpoint.tensors);
}

}  // namespace warden::scripted
