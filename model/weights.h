// The gpt-oss tensor table: every weight the forward pass reads, mapped from either
// checkpoint layout (Hugging Face root files, or OpenAI's `original/` files with the fused
// qkv split by rows into q, k, v) and checked against the config.
//
// Large matrices stay where they are in the memory-mapped files: dense ones as bf16,
// expert ones as packed MXFP4 (never dequantised). Where a checkpoint stores them otherwise,
// the load makes copies the weights own (OwnedWeightMemory): dense matrices in F16 or F32
// are rounded to bf16 (to nearest, ties to even), experts stored unquantised (bf16/F16/F32
// fine-tunes, Hugging Face layout only) are quantised to MXFP4 (model/unquantised_experts.h).
// Small vectors (norms, biases, sinks; BF16, F16 or F32) are widened to float32 copies.
//
// Thread safety: immutable after Load; safe to read from many threads.
// Ownership: ModelWeights owns the mapped archive and the copies the views point into.
#ifndef WARDEN_MODEL_WEIGHTS_H_
#define WARDEN_MODEL_WEIGHTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/config.h"
#include "model/kernels/tensor_types.h"
#include "model/safetensors.h"
#include "model/unquantised_experts.h"

namespace warden::model {

struct LayerWeights {
  std::vector<float> attn_norm;  // [H]
  Bf16Matrix q, k, v, o;         // [NH*D, H], [NKV*D, H], [NKV*D, H], [H, NH*D]
  std::vector<float> q_bias, k_bias, v_bias, o_bias;
  std::vector<float> sinks;      // [NH]
  std::vector<float> mlp_norm;   // [H]
  Bf16Matrix router;             // [E, H]
  std::vector<float> router_bias;
  std::vector<Mxfp4Matrix> mlp1;  // per expert [2I, H], rows interleave gate/linear
  std::vector<Mxfp4Matrix> mlp2;  // per expert [H, I]
  std::vector<float> mlp1_bias;   // [E, 2I]
  std::vector<float> mlp2_bias;   // [E, H]
};

enum class CheckpointLayout { kHuggingFace, kOriginal };

// Memory the weights own where a checkpoint's tensors cannot be used in place: dense
// matrices stored as F16 or F32 (rounded to bf16 at load) and experts stored unquantised.
struct OwnedWeightMemory {
  std::vector<HugePageBuffer> converted;
  std::vector<QuantisedExperts> quantised;
};

// How a checkpoint stores what ModelWeights::Load must copy (from the safetensors headers
// only; for startup logs and memory reports).
struct CheckpointStorage {
  bool unquantised_experts = false;  // Load quantises them to MXFP4
  bool copies_weights = false;       // that, or dense matrices in F16/F32: the file stays mapped
};
absl::StatusOr<CheckpointStorage> InspectCheckpointStorage(const std::string& model_dir);

class ModelWeights {
 public:
  // Opens the safetensors files of `model_dir` (mapped or read into memory, see Residency)
  // and views every tensor of `config`. A checkpoint the load copies (unquantised experts,
  // or dense matrices in F16/F32) stays mapped whatever `residency` says: it is read once,
  // into owned huge-page memory.
  static absl::StatusOr<std::unique_ptr<ModelWeights>> Load(const std::string& model_dir,
                                                            const ModelConfig& config,
                                                            Residency residency = Residency::kMapped);

  CheckpointLayout layout() const { return layout_; }
  const Bf16Matrix& embedding() const { return embedding_; }      // [V, H]
  const Bf16Matrix& unembedding() const { return unembedding_; }  // [V, H]
  const std::vector<float>& final_norm() const { return final_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  // True when the checkpoint stored its experts unquantised and Load quantised them.
  bool experts_quantised_at_load() const { return experts_quantised_at_load_; }

 private:
  ModelWeights() = default;

  std::unique_ptr<SafetensorsArchive> archive_;
  CheckpointLayout layout_ = CheckpointLayout::kHuggingFace;
  Bf16Matrix embedding_, unembedding_;
  std::vector<float> final_norm_;
  std::vector<LayerWeights> layers_;
  bool experts_quantised_at_load_ = false;
  OwnedWeightMemory owned_;  // what converted or quantised views in layers_ etc. point into
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_WEIGHTS_H_
