#include "model/config.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::model {
namespace {

using Json = nlohmann::json;

absl::Status FieldError(const std::string& source, const std::string& field,
                        const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": field '", field, "' ", problem));
}

// Reads an integer field; `required` fields must be present.
absl::Status GetInt(const Json& j, const char* key, bool required, const std::string& source,
                    int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? FieldError(source, key, "is missing") : absl::OkStatus();
  }
  if (it->is_number_integer() || it->is_number_unsigned()) {
    *out = it->get<int64_t>();
    return absl::OkStatus();
  }
  if (it->is_number_float()) {
    const double value = it->get<double>();
    if (std::floor(value) == value && std::fabs(value) < 9e15) {
      *out = static_cast<int64_t>(value);
      return absl::OkStatus();
    }
  }
  return FieldError(source, key, "must be an integer");
}

absl::Status GetInt32(const Json& j, const char* key, bool required, const std::string& source,
                      int* out) {
  int64_t value = *out;
  RETURN_IF_ERROR(GetInt(j, key, required, source, &value));
  if (value < INT32_MIN || value > INT32_MAX) return FieldError(source, key, "is out of range");
  *out = static_cast<int>(value);
  return absl::OkStatus();
}

absl::Status GetFloat(const Json& j, const char* key, bool required, const std::string& source,
                      float* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? FieldError(source, key, "is missing") : absl::OkStatus();
  }
  if (!it->is_number()) return FieldError(source, key, "must be a number");
  // JSON numbers beyond float's range would become infinities (1e207 -> inf).
  const double value = it->get<double>();
  if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) {
    return FieldError(source, key, "must be a finite number within float range");
  }
  *out = static_cast<float>(value);
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseObject(const std::string& text, const std::string& source) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(source + ": not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError(source + ": not a JSON object");
  return j;
}

absl::Status ParseRope(const Json& j, const std::string& source, RopeConfig* rope) {
  RETURN_IF_ERROR(GetFloat(j, "rope_theta", false, source, &rope->theta));
  // Newer files name it rope_parameters; a null one beside a real rope_scaling is unset.
  const auto rope_parameters = j.find("rope_parameters");
  const char* key =
      rope_parameters != j.end() && !rope_parameters->is_null() ? "rope_parameters" : "rope_scaling";
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    rope->factor = 1.0f;
    return absl::OkStatus();
  }
  if (!it->is_object()) return FieldError(source, key, "must be an object");
  const std::string where = absl::StrCat(source, " ", key);
  bool plain_rope = false;
  if (auto type = it->find("rope_type"); type != it->end() && !type->is_null()) {
    const bool known = type->is_string() && (type->get<std::string>() == "yarn" || type->get<std::string>() == "default");
    if (!known) return FieldError(source, absl::StrCat(key, ".rope_type"), "must be 'yarn' or 'default'");
    plain_rope = type->get<std::string>() == "default";
  }
  if (it->contains("rope_theta")) RETURN_IF_ERROR(GetFloat(*it, "rope_theta", false, where, &rope->theta));
  RETURN_IF_ERROR(GetFloat(*it, "factor", false, where, &rope->factor));
  // "default" is plain RoPE: Hugging Face ignores a factor given with it.
  if (plain_rope) rope->factor = 1.0f;
  if (auto truncate = it->find("truncate"); truncate != it->end() && !truncate->is_null()) {
    if (!truncate->is_boolean()) return FieldError(source, absl::StrCat(key, ".truncate"), "must be true or false");
    rope->truncate = truncate->get<bool>();
  }
  RETURN_IF_ERROR(GetInt(*it, "original_max_position_embeddings", false, where,
                         &rope->original_context));
  RETURN_IF_ERROR(GetFloat(*it, "beta_fast", false, where, &rope->beta_fast));
  RETURN_IF_ERROR(GetFloat(*it, "beta_slow", false, where, &rope->beta_slow));
  return absl::OkStatus();
}

absl::Status ParseLayerTypes(const Json& j, const std::string& source, ModelConfig* config) {
  auto it = j.find("layer_types");
  if (it == j.end() || it->is_null()) {
    config->layer_types.clear();
    for (int i = 0; i < config->num_layers; ++i) {
      config->layer_types.push_back(i % 2 == 0 ? AttentionType::kSliding : AttentionType::kFull);
    }
    return absl::OkStatus();
  }
  if (!it->is_array()) return FieldError(source, "layer_types", "must be an array");
  for (const Json& entry : *it) {
    if (entry.is_string() && entry.get<std::string>() == "sliding_attention") {
      config->layer_types.push_back(AttentionType::kSliding);
    } else if (entry.is_string() && entry.get<std::string>() == "full_attention") {
      config->layer_types.push_back(AttentionType::kFull);
    } else {
      return FieldError(source, "layer_types",
                        "entries must be 'sliding_attention' or 'full_attention'");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ModelConfig::Validate() const {
  auto positive = [](const char* field, int64_t value) -> absl::Status {
    if (value > 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("config field '", field, "' must be > 0"));
  };
  RETURN_IF_ERROR(positive("num_hidden_layers", num_layers));
  RETURN_IF_ERROR(positive("hidden_size", hidden_size));
  RETURN_IF_ERROR(positive("intermediate_size", intermediate_size));
  RETURN_IF_ERROR(positive("num_local_experts", num_experts));
  RETURN_IF_ERROR(positive("num_experts_per_tok", experts_per_token));
  RETURN_IF_ERROR(positive("num_attention_heads", num_heads));
  RETURN_IF_ERROR(positive("num_key_value_heads", num_kv_heads));
  RETURN_IF_ERROR(positive("head_dim", head_dim));
  RETURN_IF_ERROR(positive("vocab_size", vocab_size));
  RETURN_IF_ERROR(positive("sliding_window", sliding_window));
  RETURN_IF_ERROR(positive("max_position_embeddings", max_position_embeddings));
  const auto invalid = [](const std::string& text) { return absl::InvalidArgumentError(text); };
  if (num_layers > 1024) return invalid("config field 'num_hidden_layers' must be <= 1024");
  if (hidden_size > (1 << 16) || intermediate_size > (1 << 16) || head_dim > 1024 ||
      num_heads > 1024 || num_experts > 4096 || vocab_size > (1 << 24)) {
    return invalid("config sizes are implausibly large");
  }
  if (experts_per_token > num_experts) {
    return invalid("config field 'num_experts_per_tok' exceeds 'num_local_experts'");
  }
  if (num_heads % num_kv_heads != 0) {
    return invalid("config field 'num_attention_heads' must be a multiple of 'num_key_value_heads'");
  }
  if (head_dim % 2 != 0) return invalid("config field 'head_dim' must be even");
  if (hidden_size % 32 != 0 || intermediate_size % 32 != 0) {
    return invalid("config fields 'hidden_size' and 'intermediate_size' must be multiples of 32 (MXFP4 blocks)");
  }
  if (static_cast<int>(layer_types.size()) != num_layers) {
    return invalid("config field 'layer_types' must have one entry per layer");
  }
  if (!(rms_norm_eps > 0.0f) || !(swiglu_limit > 0.0f) || !std::isfinite(rms_norm_eps) ||
      !std::isfinite(swiglu_limit)) {
    return invalid("config fields 'rms_norm_eps' and 'swiglu_limit' must be finite and > 0");
  }
  if (!std::isfinite(rope.theta) || !std::isfinite(rope.factor) || !std::isfinite(rope.beta_fast) ||
      !std::isfinite(rope.beta_slow)) {
    return invalid("config rope parameters must be finite");
  }
  if (!(rope.theta > 1.0f) || !(rope.factor >= 1.0f) || rope.original_context <= 0 ||
      !(rope.beta_fast > 0.0f) || !(rope.beta_slow > 0.0f) || rope.beta_fast == rope.beta_slow) {
    return invalid("config rope parameters are invalid (theta > 1, factor >= 1, betas > 0 and distinct)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ParseHfConfig(const std::string& json_text, const std::string& source) {
  ASSIGN_OR_RETURN(const Json j, ParseObject(json_text, source));
  ModelConfig c;
  RETURN_IF_ERROR(GetInt32(j, "num_hidden_layers", true, source, &c.num_layers));
  RETURN_IF_ERROR(GetInt32(j, "hidden_size", true, source, &c.hidden_size));
  RETURN_IF_ERROR(GetInt32(j, "intermediate_size", true, source, &c.intermediate_size));
  RETURN_IF_ERROR(GetInt32(j, "num_local_experts", true, source, &c.num_experts));
  RETURN_IF_ERROR(GetInt32(j, "num_experts_per_tok", true, source, &c.experts_per_token));
  RETURN_IF_ERROR(GetInt32(j, "num_attention_heads", true, source, &c.num_heads));
  RETURN_IF_ERROR(GetInt32(j, "num_key_value_heads", true, source, &c.num_kv_heads));
  RETURN_IF_ERROR(GetInt32(j, "head_dim", true, source, &c.head_dim));
  RETURN_IF_ERROR(GetInt32(j, "vocab_size", true, source, &c.vocab_size));
  RETURN_IF_ERROR(GetInt32(j, "sliding_window", true, source, &c.sliding_window));
  RETURN_IF_ERROR(GetInt(j, "max_position_embeddings", false, source, &c.max_position_embeddings));
  RETURN_IF_ERROR(GetFloat(j, "rms_norm_eps", false, source, &c.rms_norm_eps));
  RETURN_IF_ERROR(GetFloat(j, "swiglu_limit", false, source, &c.swiglu_limit));
  if (auto tie = j.find("tie_word_embeddings"); tie != j.end() && !tie->is_null()) {
    if (!tie->is_boolean()) return FieldError(source, "tie_word_embeddings", "must be true or false");
    c.tie_word_embeddings = tie->get<bool>();
  }
  RETURN_IF_ERROR(ParseRope(j, source, &c.rope));
  RETURN_IF_ERROR(ParseLayerTypes(j, source, &c));
  RETURN_IF_ERROR(c.Validate());
  return c;
}

absl::StatusOr<ModelConfig> ParseOriginalConfig(const std::string& json_text,
                                                const std::string& source) {
  ASSIGN_OR_RETURN(const Json j, ParseObject(json_text, source));
  ModelConfig c;
  RETURN_IF_ERROR(GetInt32(j, "num_hidden_layers", true, source, &c.num_layers));
  RETURN_IF_ERROR(GetInt32(j, "hidden_size", true, source, &c.hidden_size));
  RETURN_IF_ERROR(GetInt32(j, "intermediate_size", true, source, &c.intermediate_size));
  RETURN_IF_ERROR(GetInt32(j, "num_experts", true, source, &c.num_experts));
  RETURN_IF_ERROR(GetInt32(j, "experts_per_token", true, source, &c.experts_per_token));
  RETURN_IF_ERROR(GetInt32(j, "num_attention_heads", true, source, &c.num_heads));
  RETURN_IF_ERROR(GetInt32(j, "num_key_value_heads", true, source, &c.num_kv_heads));
  RETURN_IF_ERROR(GetInt32(j, "head_dim", true, source, &c.head_dim));
  RETURN_IF_ERROR(GetInt32(j, "vocab_size", true, source, &c.vocab_size));
  RETURN_IF_ERROR(GetInt32(j, "sliding_window", true, source, &c.sliding_window));
  RETURN_IF_ERROR(GetFloat(j, "swiglu_limit", false, source, &c.swiglu_limit));
  RETURN_IF_ERROR(GetFloat(j, "rope_theta", false, source, &c.rope.theta));
  RETURN_IF_ERROR(GetFloat(j, "rope_scaling_factor", false, source, &c.rope.factor));
  RETURN_IF_ERROR(GetInt(j, "initial_context_length", false, source, &c.rope.original_context));
  RETURN_IF_ERROR(GetFloat(j, "rope_ntk_alpha", false, source, &c.rope.beta_slow));
  RETURN_IF_ERROR(GetFloat(j, "rope_ntk_beta", false, source, &c.rope.beta_fast));
  RETURN_IF_ERROR(ParseLayerTypes(j, source, &c));
  RETURN_IF_ERROR(c.Validate());
  return c;
}

absl::StatusOr<ModelConfig> ParseConfig(const std::string& json_text, const std::string& source) {
  ASSIGN_OR_RETURN(const Json j, ParseObject(json_text, source));
  if (!j.contains("num_local_experts") && j.contains("num_experts")) {
    return ParseOriginalConfig(json_text, source);
  }
  return ParseHfConfig(json_text, source);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return text.str();
}

absl::StatusOr<ModelConfig> LoadConfig(const std::string& dir) {
  const std::string path = dir + "/config.json";
  ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(path));
  return ParseConfig(text, path);
}

absl::StatusOr<GenerationDefaults> LoadGenerationDefaults(const std::string& dir) {
  const std::string path = dir + "/generation_config.json";
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (absl::IsNotFound(text.status())) return GenerationDefaults{};
  if (!text.ok()) return text.status();
  ASSIGN_OR_RETURN(const Json j, ParseObject(*text, path));
  GenerationDefaults defaults;
  // Null is unset, as in config.json. Values a request could not carry are refused here,
  // naming the file: taken as defaults, they failed every request that left them out.
  float value = 0.0f;
  if (j.contains("temperature") && !j["temperature"].is_null()) {
    RETURN_IF_ERROR(GetFloat(j, "temperature", true, path, &value));
    if (value < 0.0f) return FieldError(path, "temperature", "must be >= 0");
    defaults.temperature = value;
  }
  if (j.contains("top_p") && !j["top_p"].is_null()) {
    RETURN_IF_ERROR(GetFloat(j, "top_p", true, path, &value));
    if (!(value > 0.0f && value <= 1.0f)) return FieldError(path, "top_p", "must be in (0, 1]");
    defaults.top_p = value;
  }
  if (j.contains("top_k") && !j["top_k"].is_null()) {
    int top_k = 0;
    RETURN_IF_ERROR(GetInt32(j, "top_k", true, path, &top_k));
    if (top_k < 0) return FieldError(path, "top_k", "must be >= 0");
    defaults.top_k = top_k;
  }
  // Hugging Face decodes greedily when do_sample is false, whatever the temperature.
  if (auto sample = j.find("do_sample"); sample != j.end() && !sample->is_null()) {
    if (!sample->is_boolean()) return FieldError(path, "do_sample", "must be true or false");
    if (!sample->get<bool>()) defaults.temperature = 0.0f;
  }
  return defaults;
}

std::string ToHfConfigJson(const ModelConfig& c) {
  Json j;
  j["architectures"] = Json::array({"GptOssForCausalLM"});
  j["model_type"] = "gpt_oss";
  j["attention_bias"] = true;
  j["eos_token_id"] = 200002;
  j["pad_token_id"] = 199999;
  j["num_hidden_layers"] = c.num_layers;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_local_experts"] = c.num_experts;
  j["num_experts_per_tok"] = c.experts_per_token;
  j["experts_per_token"] = c.experts_per_token;
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["sliding_window"] = c.sliding_window;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["initial_context_length"] = c.rope.original_context;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["swiglu_limit"] = c.swiglu_limit;
  j["rope_theta"] = c.rope.theta;
  j["rope_scaling"] = {{"rope_type", "yarn"},
                       {"factor", c.rope.factor},
                       {"original_max_position_embeddings", c.rope.original_context},
                       {"beta_fast", c.rope.beta_fast},
                       {"beta_slow", c.rope.beta_slow},
                       {"truncate", c.rope.truncate}};
  Json types = Json::array();
  for (AttentionType type : c.layer_types) {
    types.push_back(type == AttentionType::kSliding ? "sliding_attention" : "full_attention");
  }
  j["layer_types"] = types;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["quantization_config"] = {{"quant_method", "mxfp4"}};
  return j.dump(2);
}

}  // namespace warden::model
