// How the engine keeps and reads its weights: the two operator choices (weight mode and
// weight memory), with the one parser of their names that every front end uses (the
// gateway's config, `oss bench`'s flags, the gateway's engine runner).
// Thread-safe (pure functions and enums).
#ifndef WARDEN_MODEL_WEIGHT_OPTIONS_H_
#define WARDEN_MODEL_WEIGHT_OPTIONS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace warden::model {

enum class WeightMode {
  kExact,  // weights as stored (bf16 dense, MXFP4 experts): matches the reference
  kFast,   // for decode-sized batches: int8 per-channel attention/unembedding copies
           // (FastWeights; ~half the bytes per decode token) and expert products against
           // int8-quantised activations (VNNI); looser logits (README "Engine speed")
};

// Where a checkpoint file's bytes live once opened.
enum class Residency {
  // mmap: pages load on first touch and are the page cache's, shared with other processes
  // reading the same checkpoint; least memory. Streaming them is slower (4 KB pages), and
  // a file truncated underneath the process faults on access.
  kMapped,
  // read into huge-page anonymous memory at open: the whole file is resident (RSS = file
  // size; the page cache may keep a second, reclaimable copy), streams ~15-20 % faster,
  // and later changes to the file cannot affect the process.
  kResident,
};

// "exact" or "fast"; "" is the default (exact). Anything else: INVALID_ARGUMENT that names
// the accepted values.
absl::StatusOr<WeightMode> ParseWeightMode(absl::string_view name);

// "resident" or "mapped"; "" is the default (resident). Anything else: INVALID_ARGUMENT
// that names the accepted values.
absl::StatusOr<Residency> ParseResidency(absl::string_view name);

// The names the parsers accept, for output ("exact", "fast", "resident", "mapped").
const char* WeightModeName(WeightMode mode);
const char* ResidencyName(Residency residency);

}  // namespace warden::model

#endif  // WARDEN_MODEL_WEIGHT_OPTIONS_H_
