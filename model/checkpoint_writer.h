// Writes random gpt-oss checkpoints in the Hugging Face layout (config.json,
// generation_config.json, model.safetensors or shards + model.safetensors.index.json),
// for tests and benchmarks of shapes we have no real weights for. Tensors are generated
// and written in bounded chunks, so a 13 GB checkpoint never sits in memory. Values are
// scaled so activations stay finite: linear weights have variance 1/fan_in, MXFP4 scales
// are chosen the same way, norms are near 1, biases and sinks small.
// Thread safety: pure functions.
#ifndef WARDEN_MODEL_CHECKPOINT_WRITER_H_
#define WARDEN_MODEL_CHECKPOINT_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/config.h"

namespace warden::model {

// "tiny" (the gpt-oss-tiny fixture's shape), "20b" or "120b"; INVALID_ARGUMENT otherwise.
absl::StatusOr<ModelConfig> PresetConfig(const std::string& preset);

// Replaces the layer count, re-deriving alternating layer types.
void SetLayerCount(int layers, ModelConfig* config);

struct CheckpointSpec {
  ModelConfig config;
  uint64_t seed = 0;
  int64_t max_shard_bytes = 4ll << 30;  // more bytes than this start another shard
};

// Creates `out_dir` if needed and writes the checkpoint; the same spec gives the same bytes.
absl::Status WriteRandomCheckpoint(const std::string& out_dir, const CheckpointSpec& spec);

// The file WriteRandomCheckpoint writes beside the weights: what marks a directory as a
// random checkpoint that make-checkpoint may overwrite.
inline constexpr char kRandomCheckpointMarker[] = "warden-random-checkpoint.txt";

// Makes `out_dir` ready for a random checkpoint without destroying a real one (`oss
// make-checkpoint`): a missing or empty directory is fine; one holding the marker and only
// files this writer writes (config.json, generation_config.json, model.safetensors,
// model-*-of-* shards, their index) is an earlier random checkpoint, whose weight files are
// removed so that no stale shard stays beside the new ones; anything else (no marker: a
// partial download has the same file names; or other files: tokenizer.json, original/ ...)
// is refused with FAILED_PRECONDITION naming why, and nothing is touched.
absl::Status PrepareRandomCheckpointDir(const std::string& out_dir);

}  // namespace warden::model

#endif  // WARDEN_MODEL_CHECKPOINT_WRITER_H_
