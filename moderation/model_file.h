// Reading and writing fast classifier models (".wmod" files).
//
// Three format versions, all read by this build:
//   version 1: a linear model (the layout below), written for linear models so that
//              older readers still load them;
//   version 2: magic, u32 version (2), u32 model kind (ModelKind), the kind's body, CRC.
//              Kind 1 has the linear body below; kind 2 (embedding bag) is described at
//              ParseBagBody in model_file_bag.cc. An unknown kind or version is refused with
//              a message naming it.
//   version 3: as version 2, for models whose features count each distinct bucket once
//              (FeatureConfig::repeats, default-v4): the feature config of a bag carries a
//              sixth u32 `repeats`, the linear header ends with u32 length_norm, u32
//              repeats (both required); an ensemble is version 3 when a member is. Models
//              that count every occurrence are still written as version 1/2, byte for byte
//              as before, so older readers load them and refuse version 3 by its number.
//   version 4: an ensemble (kind 3 only) that carries a stacking layer (stacking.h,
//              default-v7): the version 3 ensemble layout with one more block after the
//              bag member, before the CRC: u64 block length (964), u32 category count (15),
//              C x f32 bias, C x C f32 weight (row = the category adjusted). Ensembles
//              without a stacking layer are still written as version 2/3 byte for byte.
//
// Version 1 layout, all integers and floats little-endian:
//   bytes 0..3   magic "WMOD"
//   u32          format version (1)
//   u32          header length H in bytes, then H bytes of header:
//                  u32 text_fold_version, u32 buckets_log2, u32 char_min, u32 char_max,
//                  u32 word_bigrams (0/1), u32 num_categories C,
//                  C x (u16 name length, name bytes)   -- category names, taxonomy order
//                  u16 id length, id bytes
//                  C x f32 bias, C x f32 scale, C x f32 threshold
//                  [u32 length_norm]  -- optional, absent = 0 (1/sqrt(n)); 1 = 1/n,
//                                        2 = 1/sqrt(n + 64) (features.h)
//   u64          weight byte count W = 2^buckets_log2 * C, then W int8 weights
//   u32          CRC-32 (IEEE) of every preceding byte
// A reader rejects a wrong magic, an unknown version, a size that does not add up, a
// category list differing from the taxonomy, and a checksum mismatch, with a status that
// names the file and the field.
//
// Thread safety: free functions without shared state.
#ifndef WARDEN_MODERATION_MODEL_FILE_H_
#define WARDEN_MODERATION_MODEL_FILE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "moderation/bag_model.h"
#include "moderation/fast_model.h"
#include "moderation/stacking.h"

namespace warden::moderation {

inline constexpr uint32_t kModelFormatVersion = 1;           // linear only, no kind field
inline constexpr uint32_t kModelFormatVersionWithKind = 2;   // kind field follows the version
inline constexpr uint32_t kModelFormatVersionRepeats = 3;     // + FeatureConfig::repeats
inline constexpr uint32_t kModelFormatVersionStacking = 4;    // + an ensemble's stacking layer

// kEnsemble scores a text with a linear and an embedding-bag model and averages their
// probabilities; it has thresholds of its own.
enum class ModelKind : uint32_t { kLinear = 1, kEmbeddingBag = 2, kEnsemble = 3 };

// What a model file holds; plain value type.
struct ModelFileContents {
  ModelKind kind = ModelKind::kLinear;
  FastModel linear;  // kLinear and kEnsemble
  BagModel bag;      // kEmbeddingBag and kEnsemble
  // kEnsemble only: identifier, thresholds (in (0, 1]) of the averaged scores, and the
  // hierarchy rule applied to the averaged scores.
  std::string ensemble_id;
  std::array<float, kNumCategories> ensemble_threshold{};
  Hierarchy ensemble_hierarchy = Hierarchy::kNone;
  // kEnsemble only, optional: applied to the averaged scores before the hierarchy rule.
  std::optional<StackingLayer> ensemble_stacking;
};

// Serialises `model` (which must pass ValidateFastModel).
absl::StatusOr<std::string> SerializeFastModel(const FastModel& model);

// Serialises `model` (which must pass ValidateBagModel) as version 2, kind 2.
absl::StatusOr<std::string> SerializeBagModel(const BagModel& model);

// Serialises any kind: kLinear as version 1 (readable by older builds), the others as
// version 2 (3 when a feature config needs it, 4 for an ensemble with a stacking layer).
// Kind 3 (ensemble) body: u32 header length, header {id, C x f32 threshold,
// u32 hierarchy},
// then u64 length + the complete linear file, u64 length + the complete bag file, and in
// version 4 the stacking block.
absl::StatusOr<std::string> SerializeModelFile(const ModelFileContents& contents);
absl::Status WriteModelFile(const ModelFileContents& contents, const std::string& path);

// Parses a model file of either version and any known kind. `origin` (e.g. a path)
// prefixes messages; corrupt, truncated or unknown content is DataLoss.
absl::StatusOr<ModelFileContents> ParseModelFile(std::string_view bytes, std::string_view origin);

// Parses a linear model; InvalidArgument for a file of another kind.
absl::StatusOr<FastModel> ParseFastModel(std::string_view bytes, std::string_view origin);

absl::Status WriteFastModelFile(const FastModel& model, const std::string& path);
absl::StatusOr<FastModel> ReadFastModelFile(const std::string& path);
absl::Status WriteBagModelFile(const BagModel& model, const std::string& path);
absl::StatusOr<ModelFileContents> ReadModelFile(const std::string& path);

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of `bytes`.
uint32_t Crc32(std::string_view bytes);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_MODEL_FILE_H_
