// oss make-checkpoint: writes a random checkpoint of a preset shape in the HF layout.
#include <cstdio>

#include "base/status_macros.h"
#include "model/checkpoint_writer.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {

absl::Status RunMakeCheckpoint(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags, Flags::Parse(args, {"out", "preset", "layers", "seed", "max_shard_mb"}));
  ASSIGN_OR_RETURN(const std::string out, flags.Required("out"));
  ASSIGN_OR_RETURN(const std::string preset, flags.Required("preset"));
  CheckpointSpec spec;
  ASSIGN_OR_RETURN(spec.config, PresetConfig(preset));
  if (flags.Has("layers")) {
    ASSIGN_OR_RETURN(const int64_t layers, flags.GetInt("layers", 0));
    if (layers <= 0 || layers > 1024) return absl::InvalidArgumentError("flag --layers must be in [1, 1024]");
    SetLayerCount(static_cast<int>(layers), &spec.config);
  }
  ASSIGN_OR_RETURN(const int64_t seed, flags.GetInt("seed", 0));
  // At most 1 TB a shard, so the byte count below cannot overflow.
  ASSIGN_OR_RETURN(const int64_t shard_mb, flags.GetIntInRange("max_shard_mb", 4096, 1, int64_t{1} << 20));
  spec.seed = static_cast<uint64_t>(seed);
  spec.max_shard_bytes = shard_mb << 20;
  RETURN_IF_ERROR(PrepareRandomCheckpointDir(out));
  RETURN_IF_ERROR(WriteRandomCheckpoint(out, spec));
  std::printf("wrote %s (preset %s, %d layers)\n", out.c_str(), preset.c_str(), spec.config.num_layers);
  return absl::OkStatus();
}

}  // namespace warden::model::tools
