#include "model/weights.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "model/tensor_convert.h"
#include "model/unquantised_experts.h"

namespace warden::model {
namespace {

// Tensor names of one layer in a given layout. Original-layout q/k/v are row slices of
// `qkv`, so `q` etc. are empty there.
struct LayerNames {
  std::string attn_norm, qkv_weight, qkv_bias, q, k, v, q_bias, k_bias, v_bias, o, o_bias, sinks,
      mlp_norm, router, router_bias, mlp1_blocks, mlp1_scales, mlp1_bias, mlp2_blocks, mlp2_scales,
      mlp2_bias;
};

LayerNames HfNames(int n) {
  const std::string p = absl::StrCat("model.layers.", n, ".");
  LayerNames names;
  names.attn_norm = p + "input_layernorm.weight";
  names.q = p + "self_attn.q_proj.weight";
  names.k = p + "self_attn.k_proj.weight";
  names.v = p + "self_attn.v_proj.weight";
  names.q_bias = p + "self_attn.q_proj.bias";
  names.k_bias = p + "self_attn.k_proj.bias";
  names.v_bias = p + "self_attn.v_proj.bias";
  names.o = p + "self_attn.o_proj.weight";
  names.o_bias = p + "self_attn.o_proj.bias";
  names.sinks = p + "self_attn.sinks";
  names.mlp_norm = p + "post_attention_layernorm.weight";
  names.router = p + "mlp.router.weight";
  names.router_bias = p + "mlp.router.bias";
  names.mlp1_blocks = p + "mlp.experts.gate_up_proj_blocks";
  names.mlp1_scales = p + "mlp.experts.gate_up_proj_scales";
  names.mlp1_bias = p + "mlp.experts.gate_up_proj_bias";
  names.mlp2_blocks = p + "mlp.experts.down_proj_blocks";
  names.mlp2_scales = p + "mlp.experts.down_proj_scales";
  names.mlp2_bias = p + "mlp.experts.down_proj_bias";
  return names;
}

LayerNames OriginalNames(int n) {
  const std::string p = absl::StrCat("block.", n, ".");
  LayerNames names;
  names.attn_norm = p + "attn.norm.scale";
  names.qkv_weight = p + "attn.qkv.weight";
  names.qkv_bias = p + "attn.qkv.bias";
  names.o = p + "attn.out.weight";
  names.o_bias = p + "attn.out.bias";
  names.sinks = p + "attn.sinks";
  names.mlp_norm = p + "mlp.norm.scale";
  names.router = p + "mlp.gate.weight";
  names.router_bias = p + "mlp.gate.bias";
  names.mlp1_blocks = p + "mlp.mlp1_weight.blocks";
  names.mlp1_scales = p + "mlp.mlp1_weight.scales";
  names.mlp1_bias = p + "mlp.mlp1_bias";
  names.mlp2_blocks = p + "mlp.mlp2_weight.blocks";
  names.mlp2_scales = p + "mlp.mlp2_weight.scales";
  names.mlp2_bias = p + "mlp.mlp2_bias";
  return names;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<TensorView> GetChecked(const SafetensorsArchive& archive, const std::string& name,
                                      const std::vector<int64_t>& shape,
                                      std::vector<DType> dtypes) {
  ASSIGN_OR_RETURN(TensorView view, archive.Get(name));
  if (view.shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", name, "' has shape ",
                                                   ShapeString(view.shape), ", the config needs ",
                                                   ShapeString(shape)));
  }
  for (DType dtype : dtypes) {
    if (view.dtype == dtype) return view;
  }
  std::vector<std::string> allowed;
  for (DType dtype : dtypes) allowed.push_back(DTypeName(dtype));
  return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", name, "' has dtype ",
                                                 view.dtype_name, ", expected ",
                                                 absl::StrJoin(allowed, " or ")));
}

absl::StatusOr<std::vector<float>> LoadVector(const SafetensorsArchive& archive,
                                              const std::string& name, std::vector<int64_t> shape) {
  ASSIGN_OR_RETURN(TensorView view, GetChecked(archive, name, shape, {DType::kBF16, DType::kF16, DType::kF32}));
  std::vector<float> out(static_cast<size_t>(view.NumElements()));
  WidenToFloat(view, 0, out.size(), out.data());
  return out;
}

// A dense matrix as the kernels read it: bf16 in place, or F16/F32 (checkpoints saved in
// another precision) rounded to bf16 into memory `owned` keeps.
absl::StatusOr<Bf16Matrix> LoadMatrix(const SafetensorsArchive& archive, const std::string& name, int rows,
                                      int cols, OwnedWeightMemory* owned) {
  ASSIGN_OR_RETURN(TensorView view,
                   GetChecked(archive, name, {rows, cols}, {DType::kBF16, DType::kF16, DType::kF32}));
  if (view.dtype != DType::kBF16) {
    const size_t count = static_cast<size_t>(rows) * cols;
    HugePageBuffer buffer(count * sizeof(uint16_t));
    if (buffer.data() == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", count * 2, " bytes to convert tensor '",
                                                       name, "' to bf16"));
    }
    auto* out = static_cast<uint16_t*>(buffer.data());
    RoundToBf16(view, 0, count, out);
    owned->converted.push_back(std::move(buffer));
    return Bf16Matrix{out, rows, cols};
  }
  if (reinterpret_cast<uintptr_t>(view.data) % alignof(uint16_t) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", name,
                                                   "' starts at an odd byte offset; bf16 data must be 2-byte aligned"));
  }
  return Bf16Matrix{reinterpret_cast<const uint16_t*>(view.data), rows, cols};
}

Bf16Matrix RowSlice(const Bf16Matrix& m, int row_begin, int rows) {
  return Bf16Matrix{m.data + static_cast<size_t>(row_begin) * m.cols, rows, m.cols};
}

// The name an expert tensor has when stored unquantised (Hugging Face layout only:
// "...gate_up_proj_blocks" -> "...gate_up_proj"); empty for the original layout's names.
std::string UnquantisedName(const std::string& blocks_name) {
  if (!absl::EndsWith(blocks_name, "_blocks")) return "";
  return blocks_name.substr(0, blocks_name.size() - std::string("_blocks").size());
}

absl::Status LoadExperts(const SafetensorsArchive& archive, const std::string& blocks_name,
                         const std::string& scales_name, int experts, int rows, int cols,
                         std::vector<Mxfp4Matrix>* out, OwnedWeightMemory* owned) {
  const int nblocks = cols / 32;
  const std::string unquantised = UnquantisedName(blocks_name);
  if (!archive.Contains(blocks_name) && !unquantised.empty() && archive.Contains(unquantised)) {
    ASSIGN_OR_RETURN(TensorView view, archive.Get(unquantised));
    ASSIGN_OR_RETURN(QuantisedExperts quantised, QuantiseTransposedExperts(view, experts, rows, cols));
    *out = quantised.matrices;
    owned->quantised.push_back(std::move(quantised));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(TensorView blocks,
                   GetChecked(archive, blocks_name, {experts, rows, nblocks, 16}, {DType::kU8}));
  ASSIGN_OR_RETURN(TensorView scales,
                   GetChecked(archive, scales_name, {experts, rows, nblocks}, {DType::kU8}));
  for (int e = 0; e < experts; ++e) {
    const size_t per_expert = static_cast<size_t>(rows) * nblocks;
    out->push_back(Mxfp4Matrix{blocks.data + e * per_expert * 16, scales.data + e * per_expert,
                               rows, cols});
  }
  return absl::OkStatus();
}

absl::Status LoadAttention(const SafetensorsArchive& archive, const ModelConfig& c, CheckpointLayout layout,
                           const LayerNames& names, LayerWeights* w, OwnedWeightMemory* owned) {
  const int q_rows = c.num_heads * c.head_dim, kv_rows = c.num_kv_heads * c.head_dim;
  if (layout == CheckpointLayout::kHuggingFace) {
    ASSIGN_OR_RETURN(w->q, LoadMatrix(archive, names.q, q_rows, c.hidden_size, owned));
    ASSIGN_OR_RETURN(w->k, LoadMatrix(archive, names.k, kv_rows, c.hidden_size, owned));
    ASSIGN_OR_RETURN(w->v, LoadMatrix(archive, names.v, kv_rows, c.hidden_size, owned));
    ASSIGN_OR_RETURN(w->q_bias, LoadVector(archive, names.q_bias, {q_rows}));
    ASSIGN_OR_RETURN(w->k_bias, LoadVector(archive, names.k_bias, {kv_rows}));
    ASSIGN_OR_RETURN(w->v_bias, LoadVector(archive, names.v_bias, {kv_rows}));
  } else {
    const int total = q_rows + 2 * kv_rows;
    ASSIGN_OR_RETURN(const Bf16Matrix qkv, LoadMatrix(archive, names.qkv_weight, total, c.hidden_size, owned));
    w->q = RowSlice(qkv, 0, q_rows);
    w->k = RowSlice(qkv, q_rows, kv_rows);
    w->v = RowSlice(qkv, q_rows + kv_rows, kv_rows);
    ASSIGN_OR_RETURN(const std::vector<float> bias, LoadVector(archive, names.qkv_bias, {total}));
    w->q_bias.assign(bias.begin(), bias.begin() + q_rows);
    w->k_bias.assign(bias.begin() + q_rows, bias.begin() + q_rows + kv_rows);
    w->v_bias.assign(bias.begin() + q_rows + kv_rows, bias.end());
  }
  ASSIGN_OR_RETURN(w->o, LoadMatrix(archive, names.o, c.hidden_size, q_rows, owned));
  ASSIGN_OR_RETURN(w->o_bias, LoadVector(archive, names.o_bias, {c.hidden_size}));
  ASSIGN_OR_RETURN(w->sinks, LoadVector(archive, names.sinks, {c.num_heads}));
  ASSIGN_OR_RETURN(w->attn_norm, LoadVector(archive, names.attn_norm, {c.hidden_size}));
  return absl::OkStatus();
}

absl::Status LoadMlp(const SafetensorsArchive& archive, const ModelConfig& c, const LayerNames& names,
                     LayerWeights* w, OwnedWeightMemory* owned) {
  const int e = c.num_experts, h = c.hidden_size, i2 = 2 * c.intermediate_size;
  ASSIGN_OR_RETURN(w->mlp_norm, LoadVector(archive, names.mlp_norm, {h}));
  ASSIGN_OR_RETURN(w->router, LoadMatrix(archive, names.router, e, h, owned));
  ASSIGN_OR_RETURN(w->router_bias, LoadVector(archive, names.router_bias, {e}));
  RETURN_IF_ERROR(LoadExperts(archive, names.mlp1_blocks, names.mlp1_scales, e, i2, h, &w->mlp1, owned));
  RETURN_IF_ERROR(LoadExperts(archive, names.mlp2_blocks, names.mlp2_scales, e, h, c.intermediate_size,
                              &w->mlp2, owned));
  ASSIGN_OR_RETURN(w->mlp1_bias, LoadVector(archive, names.mlp1_bias, {e, i2}));
  ASSIGN_OR_RETURN(w->mlp2_bias, LoadVector(archive, names.mlp2_bias, {e, h}));
  return absl::OkStatus();
}

bool HasUnquantisedExperts(const SafetensorsArchive& archive) {
  const LayerNames names = HfNames(0);
  return !archive.Contains(names.mlp1_blocks) && archive.Contains(UnquantisedName(names.mlp1_blocks));
}

// Whether the load copies most of the weights (unquantised experts, or dense matrices in
// another precision than bf16, judged by the embedding): then a resident copy of the file
// would only cost memory (a float32 20b is ≈ 84 GB).
bool LoadCopiesTheWeights(const SafetensorsArchive& archive) {
  if (HasUnquantisedExperts(archive)) return true;
  for (const char* embedding : {"model.embed_tokens.weight", "embedding.weight"}) {
    const auto view = archive.Get(embedding);
    if (view.ok()) return view->dtype != DType::kBF16;
  }
  return false;
}

}  // namespace

absl::StatusOr<CheckpointStorage> InspectCheckpointStorage(const std::string& model_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsArchive> archive,
                   SafetensorsArchive::OpenDirectory(model_dir, Residency::kMapped));
  return CheckpointStorage{HasUnquantisedExperts(*archive), LoadCopiesTheWeights(*archive)};
}

absl::StatusOr<std::unique_ptr<ModelWeights>> ModelWeights::Load(const std::string& model_dir,
                                                                  const ModelConfig& config,
                                                                  Residency residency) {
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<ModelWeights> weights(new ModelWeights());
  // Opened mapped first (headers only) to see whether the load copies the weights (experts
  // stored unquantised, or a checkpoint saved in float32/float16): then the file is read
  // once, into the copies, and stays mapped.
  ASSIGN_OR_RETURN(weights->archive_, SafetensorsArchive::OpenDirectory(model_dir, Residency::kMapped));
  weights->experts_quantised_at_load_ = HasUnquantisedExperts(*weights->archive_);
  if (residency == Residency::kResident && !LoadCopiesTheWeights(*weights->archive_)) {
    ASSIGN_OR_RETURN(weights->archive_, SafetensorsArchive::OpenDirectory(model_dir, residency));
  }
  const SafetensorsArchive& archive = *weights->archive_;
  const bool original = archive.Contains("block.0.attn.qkv.weight") || archive.Contains("embedding.weight");
  weights->layout_ = original ? CheckpointLayout::kOriginal : CheckpointLayout::kHuggingFace;
  const int v = config.vocab_size, h = config.hidden_size;
  ASSIGN_OR_RETURN(weights->embedding_,
                   LoadMatrix(archive, original ? "embedding.weight" : "model.embed_tokens.weight", v, h,
                              &weights->owned_));
  const char* unembedding = original ? "unembedding.weight" : "lm_head.weight";
  if (config.tie_word_embeddings) unembedding = original ? "embedding.weight" : "model.embed_tokens.weight";
  ASSIGN_OR_RETURN(weights->unembedding_, LoadMatrix(archive, unembedding, v, h, &weights->owned_));
  ASSIGN_OR_RETURN(weights->final_norm_,
                   LoadVector(archive, original ? "norm.scale" : "model.norm.weight", {h}));
  for (int n = 0; n < config.num_layers; ++n) {
    const LayerNames names = original ? OriginalNames(n) : HfNames(n);
    LayerWeights layer;
    RETURN_IF_ERROR(LoadAttention(archive, config, weights->layout_, names, &layer, &weights->owned_));
    RETURN_IF_ERROR(LoadMlp(archive, config, names, &layer, &weights->owned_));
    weights->layers_.push_back(std::move(layer));
  }
  return weights;
}

}  // namespace warden::model
