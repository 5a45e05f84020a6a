// The gpt-oss model configuration as one plain struct, read from a checkpoint directory in
// either layout (Hugging Face `config.json`, or OpenAI's original `config.json`), plus the
// sampling defaults of `generation_config.json` when present.
// Thread safety: a value type; const access from many threads is safe.
#ifndef WARDEN_MODEL_CONFIG_H_
#define WARDEN_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace warden::model {

enum class AttentionType { kSliding, kFull };

struct RopeConfig {
  float theta = 150000.0f;
  float factor = 32.0f;                 // YaRN scaling factor; 1 disables YaRN
  int64_t original_context = 4096;      // original_max_position_embeddings
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  // Hugging Face's YaRN option: round the ramp's ends outward (floor/ceil) as classic YaRN
  // does. gpt-oss writes false and the spec's formula is unrounded, so absent means false.
  bool truncate = false;
};

struct ModelConfig {
  int num_layers = 0;
  int hidden_size = 0;
  int intermediate_size = 0;  // per expert
  int num_experts = 0;
  int experts_per_token = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  int sliding_window = 0;
  int64_t max_position_embeddings = 131072;
  float rms_norm_eps = 1e-5f;
  float swiglu_limit = 7.0f;
  float swiglu_alpha = 1.702f;
  RopeConfig rope;
  std::vector<AttentionType> layer_types;  // one per layer
  // The unembedding is the embedding matrix (Hugging Face's tie_word_embeddings; gpt-oss
  // itself is untied). A tied checkpoint's lm_head.weight, if any, is not read.
  bool tie_word_embeddings = false;

  // Checks every field and cross-field constraint; the message names the field.
  absl::Status Validate() const;
};

// Sampling defaults from generation_config.json (absent fields stay unset).
struct GenerationDefaults {
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int> top_k;
};

// Parses a Hugging Face config.json text. `source` names the file in errors.
absl::StatusOr<ModelConfig> ParseHfConfig(const std::string& json_text, const std::string& source);
// Parses the original layout's config.json text (num_experts, rope_scaling_factor, ...).
absl::StatusOr<ModelConfig> ParseOriginalConfig(const std::string& json_text,
                                                const std::string& source);
// Parses either layout, deciding by the keys present, and validates.
absl::StatusOr<ModelConfig> ParseConfig(const std::string& json_text, const std::string& source);
// Reads and parses `dir/config.json`.
absl::StatusOr<ModelConfig> LoadConfig(const std::string& dir);
// Reads `dir/generation_config.json`; an absent file gives empty defaults.
absl::StatusOr<GenerationDefaults> LoadGenerationDefaults(const std::string& dir);

// Serialises a config in the Hugging Face layout (used by the checkpoint writer).
std::string ToHfConfigJson(const ModelConfig& config);

// Reads a whole (small) file; NOT_FOUND when absent.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

}  // namespace warden::model

#endif  // WARDEN_MODEL_CONFIG_H_
