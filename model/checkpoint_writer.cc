#include "model/checkpoint_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "model/kernels/tensor_types.h"

namespace warden::model {
namespace {

enum class Fill {
  kUniformBf16,  // uniform in [-amplitude, amplitude]
  kNearOneBf16,  // 1 + uniform in [-amplitude, amplitude]
  kRandomBytes,  // MXFP4 blocks
  kScaleBytes,   // MXFP4 exponents: `scale_center` or one below
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  Fill fill = Fill::kUniformBf16;
  float amplitude = 0.0f;
  int scale_center = 127;

  bool is_bf16() const { return fill == Fill::kUniformBf16 || fill == Fill::kNearOneBf16; }
  int64_t bytes() const {
    int64_t n = is_bf16() ? 2 : 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// splitmix64: fast, good enough for random weights, and seekable per tensor.
struct SplitMix {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// The exponent byte that gives an MXFP4 row of `fan_in` inputs variance ~1/fan_in
// (random e2m1 values have an RMS of about 2.93).
int ScaleCenter(int fan_in) {
  return 127 + static_cast<int>(std::lround(std::log2(1.0 / (2.93 * std::sqrt(fan_in)))));
}

TensorSpec Linear(const std::string& name, int64_t out, int64_t in) {
  return {name, {out, in}, Fill::kUniformBf16, static_cast<float>(std::sqrt(3.0 / in)), 127};
}
TensorSpec Small(const std::string& name, std::vector<int64_t> shape, float amplitude) {
  return {name, std::move(shape), Fill::kUniformBf16, amplitude, 127};
}
TensorSpec Norm(const std::string& name, int64_t n) {
  return {name, {n}, Fill::kNearOneBf16, 0.1f, 127};
}

void AddExperts(const std::string& prefix, int64_t experts, int64_t rows, int64_t cols,
                std::vector<TensorSpec>* out) {
  out->push_back({prefix + "_blocks", {experts, rows, cols / 32, 16}, Fill::kRandomBytes, 0, 127});
  out->push_back({prefix + "_scales", {experts, rows, cols / 32}, Fill::kScaleBytes, 0,
                  ScaleCenter(static_cast<int>(cols))});
  out->push_back(Small(prefix + "_bias", {experts, rows}, 0.02f));
}

std::vector<TensorSpec> TensorSpecs(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  std::vector<TensorSpec> specs;
  specs.push_back(Small("model.embed_tokens.weight", {c.vocab_size, h}, 1.0f));
  for (int n = 0; n < c.num_layers; ++n) {
    const std::string p = absl::StrCat("model.layers.", n, ".");
    specs.push_back(Norm(p + "input_layernorm.weight", h));
    specs.push_back(Linear(p + "self_attn.q_proj.weight", q, h));
    specs.push_back(Small(p + "self_attn.q_proj.bias", {q}, 0.02f));
    specs.push_back(Linear(p + "self_attn.k_proj.weight", kv, h));
    specs.push_back(Small(p + "self_attn.k_proj.bias", {kv}, 0.02f));
    specs.push_back(Linear(p + "self_attn.v_proj.weight", kv, h));
    specs.push_back(Small(p + "self_attn.v_proj.bias", {kv}, 0.02f));
    specs.push_back(Linear(p + "self_attn.o_proj.weight", h, q));
    specs.push_back(Small(p + "self_attn.o_proj.bias", {h}, 0.02f));
    specs.push_back(Small(p + "self_attn.sinks", {c.num_heads}, 0.5f));
    specs.push_back(Norm(p + "post_attention_layernorm.weight", h));
    specs.push_back(Linear(p + "mlp.router.weight", c.num_experts, h));
    specs.push_back(Small(p + "mlp.router.bias", {c.num_experts}, 0.02f));
    AddExperts(p + "mlp.experts.gate_up_proj", c.num_experts, 2 * c.intermediate_size, h, &specs);
    AddExperts(p + "mlp.experts.down_proj", c.num_experts, h, c.intermediate_size, &specs);
  }
  specs.push_back(Norm("model.norm.weight", h));
  specs.push_back(Linear("lm_head.weight", c.vocab_size, h));
  return specs;
}

// Fills `out` with bytes [offset, offset + out.size()) of the tensor. Every 8 bytes come
// from one generator step keyed by (seed, tensor, offset / 8), so chunks need no state.
void Generate(const TensorSpec& spec, uint64_t seed, size_t index, int64_t offset, std::vector<uint8_t>& out) {
  SplitMix rng{seed * 0x100000001b3ull + index * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(offset / 8)};
  for (size_t i = 0; i < out.size(); i += 8) {
    uint64_t bits = rng.Next();
    const size_t n = std::min<size_t>(8, out.size() - i);
    if (spec.fill == Fill::kRandomBytes) {
      std::memcpy(&out[i], &bits, n);
      continue;
    }
    if (spec.fill == Fill::kScaleBytes) {
      for (size_t j = 0; j < n; ++j) out[i + j] = static_cast<uint8_t>(spec.scale_center - ((bits >> j) & 1));
      continue;
    }
    for (size_t j = 0; j + 1 < n; j += 2) {  // bf16 tensors have even byte counts
      const float unit = static_cast<float>((bits >> (8 * j)) & 0xffff) / 32768.0f - 1.0f;
      const float value = (spec.fill == Fill::kNearOneBf16 ? 1.0f : 0.0f) + unit * spec.amplitude;
      const uint16_t half = FloatToBf16(value);
      std::memcpy(&out[i + j], &half, 2);
    }
  }
}

// Creates `dir` and its missing parents.
absl::Status MakeDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::PermissionDeniedError(absl::StrCat(dir, ": cannot create: ", error.message()));
  return absl::OkStatus();
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) {
    return absl::DataLossError(absl::StrCat(path, ": short write"));
  }
  return absl::OkStatus();
}

absl::Status WriteShard(const std::string& path, const std::vector<TensorSpec>& specs,
                        const std::vector<size_t>& members, uint64_t seed) {
  nlohmann::json header;
  header["__metadata__"] = {{"format", "pt"}};
  int64_t offset = 0;
  for (size_t i : members) {
    header[specs[i].name] = {{"dtype", specs[i].is_bf16() ? "BF16" : "U8"},
                             {"shape", specs[i].shape},
                             {"data_offsets", {offset, offset + specs[i].bytes()}}};
    offset += specs[i].bytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bool ok = std::fwrite(length, 1, 8, file.get()) == 8 &&
            std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
  constexpr int64_t kChunk = 64 << 20;  // a multiple of 8, so chunk seeds line up
  std::vector<uint8_t> buffer;
  for (size_t i : members) {
    for (int64_t done = 0; ok && done < specs[i].bytes(); done += kChunk) {
      buffer.resize(static_cast<size_t>(std::min(kChunk, specs[i].bytes() - done)));
      Generate(specs[i], seed, i, done, buffer);
      ok = std::fwrite(buffer.data(), 1, buffer.size(), file.get()) == buffer.size();
    }
  }
  if (!ok) return absl::DataLossError(absl::StrCat(path, ": write failed (disk full?)"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> PresetConfig(const std::string& preset) {
  ModelConfig c;
  if (preset == "tiny") {
    c.num_layers = 4; c.hidden_size = 64; c.intermediate_size = 64; c.num_experts = 8;
    c.experts_per_token = 4; c.num_heads = 4; c.num_kv_heads = 2; c.head_dim = 16;
    c.vocab_size = 2048; c.sliding_window = 8;
  } else if (preset == "20b" || preset == "120b") {
    c.num_layers = preset == "20b" ? 24 : 36; c.hidden_size = 2880; c.intermediate_size = 2880;
    c.num_experts = preset == "20b" ? 32 : 128; c.experts_per_token = 4; c.num_heads = 64;
    c.num_kv_heads = 8; c.head_dim = 64; c.vocab_size = 201088; c.sliding_window = 128;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown preset '", preset, "' (tiny, 20b or 120b)"));
  }
  SetLayerCount(c.num_layers, &c);
  return c;
}

void SetLayerCount(int layers, ModelConfig* config) {
  config->num_layers = layers;
  config->layer_types.clear();
  for (int i = 0; i < layers; ++i) {
    config->layer_types.push_back(i % 2 == 0 ? AttentionType::kSliding : AttentionType::kFull);
  }
}

absl::Status WriteRandomCheckpoint(const std::string& out_dir, const CheckpointSpec& spec) {
  RETURN_IF_ERROR(spec.config.Validate());
  if (spec.max_shard_bytes <= 0) return absl::InvalidArgumentError("max_shard_bytes must be > 0");
  RETURN_IF_ERROR(MakeDir(out_dir));
  RETURN_IF_ERROR(WriteText(out_dir + "/" + kRandomCheckpointMarker,
                            "Random weights written by `oss make-checkpoint` (or warden's demo model): the\n"
                            "output is gibberish. make-checkpoint may overwrite this directory.\n"));
  RETURN_IF_ERROR(WriteText(out_dir + "/config.json", ToHfConfigJson(spec.config)));
  RETURN_IF_ERROR(WriteText(out_dir + "/generation_config.json",
                            R"({"bos_token_id": 199998, "eos_token_id": [200002, 199999, 200012], )"
                            R"("pad_token_id": 199999, "do_sample": true, "temperature": 1.0, "top_p": 1.0})"));
  const std::vector<TensorSpec> specs = TensorSpecs(spec.config);
  std::vector<std::vector<size_t>> shards(1);
  int64_t shard_bytes = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!shards.back().empty() && shard_bytes + specs[i].bytes() > spec.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += specs[i].bytes();
  }
  if (shards.size() == 1) return WriteShard(out_dir + "/model.safetensors", specs, shards[0], spec.seed);
  nlohmann::json index;
  index["metadata"] = nlohmann::json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors", s + 1, shards.size());
    RETURN_IF_ERROR(WriteShard(out_dir + "/" + name, specs, shards[s], spec.seed));
    for (size_t i : shards[s]) index["weight_map"][specs[i].name] = name;
  }
  return WriteText(out_dir + "/model.safetensors.index.json", index.dump(2));
}

namespace {

// The files WriteRandomCheckpoint writes; true for its weight files (which a new
// checkpoint of another shard count would not all replace).
bool IsRandomCheckpointFile(const std::string& name, bool* weights) {
  *weights = name == "model.safetensors" || name == "model.safetensors.index.json" ||
             (absl::StartsWith(name, "model-") && absl::EndsWith(name, ".safetensors") &&
              absl::StrContains(name, "-of-"));
  return *weights || name == "config.json" || name == "generation_config.json" || name == kRandomCheckpointMarker;
}

}  // namespace

absl::Status PrepareRandomCheckpointDir(const std::string& out_dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(out_dir, error)) return absl::OkStatus();
  if (!fs::is_directory(out_dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(out_dir, " exists and is not a directory"));
  }
  std::vector<fs::path> weight_files;
  std::vector<std::string> foreign;
  bool marked = false, empty = true;
  for (fs::directory_iterator it(out_dir, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    empty = false;
    marked = marked || name == kRandomCheckpointMarker;
    bool weights = false;
    if (!IsRandomCheckpointFile(name, &weights) || !it->is_regular_file(error)) {
      foreign.push_back(name);
    } else if (weights) {
      weight_files.push_back(it->path());
    }
  }
  if (error) return absl::PermissionDeniedError(absl::StrCat(out_dir, ": cannot list: ", error.message()));
  if (!empty && !marked) {
    return absl::FailedPreconditionError(
        absl::StrCat(out_dir, " is not empty and was not written by make-checkpoint (it has no ", kRandomCheckpointMarker,
                     "): it may be a real checkpoint, so nothing was written; choose a new or empty directory"));
  }
  if (!foreign.empty()) {
    std::sort(foreign.begin(), foreign.end());
    if (foreign.size() > 5) foreign.resize(5);
    return absl::FailedPreconditionError(
        absl::StrCat(out_dir, " holds files a random checkpoint does not have (", absl::StrJoin(foreign, ", "),
                     "): it may be a real checkpoint, so nothing was written; choose a new or empty directory"));
  }
  for (const fs::path& file : weight_files) {
    if (!fs::remove(file, error) && error) {
      return absl::PermissionDeniedError(absl::StrCat(file.string(), ": cannot remove: ", error.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace warden::model
