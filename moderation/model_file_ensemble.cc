// The ensemble kind (3) of the .wmod format: two complete member files, the ensemble's
// own header and, in version 4, its stacking layer.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/wmod_codec.h"

namespace warden::moderation::wmod {
namespace {

// A member file of an ensemble: a complete model file of `expected` kind.
absl::StatusOr<ModelFileContents> ParseMember(Reader& r, std::string_view origin,
                                              ModelKind expected, std::string_view name) {
  ASSIGN_OR_RETURN(const uint64_t length, r.Get<uint64_t>(name));
  if (length > r.remaining()) return r.Error(absl::StrCat(std::string(name), " length too large"));
  ASSIGN_OR_RETURN(const std::string_view bytes, r.GetBytes(length, name));
  absl::StatusOr<ModelFileContents> member = ParseAnyKind(
      bytes, absl::StrCat(std::string(origin), " (", std::string(name), ")"), false);
  if (!member.ok()) return member.status();
  if (member->kind != expected) {
    return r.Error(absl::StrCat(std::string(name), " has the wrong model kind"));
  }
  return member;
}

constexpr int C = kNumCategories;
constexpr uint64_t kStackingBlockBytes = 4 + 4 * C + 4 * C * C;

// The version-4 block after the members: u64 length, u32 category count, biases, weights.
absl::StatusOr<StackingLayer> ParseStackingBlock(Reader& r) {
  ASSIGN_OR_RETURN(const uint64_t length, r.Get<uint64_t>("stacking block length"));
  if (length != kStackingBlockBytes) {
    return r.Error(absl::StrCat("stacking block length ", length, ", expected ", kStackingBlockBytes));
  }
  // The block must end before the checksum, which a plain read would take for weights.
  if (r.remaining() < length + 4) {
    return r.Error(absl::StrCat("stacking block truncated: ", r.remaining() < 4 ? 0 : r.remaining() - 4,
                                " of ", length, " bytes"));
  }
  ASSIGN_OR_RETURN(const std::string_view bytes, r.GetBytes(length, "stacking block"));
  Reader br(bytes, r.origin());
  ASSIGN_OR_RETURN(const uint32_t categories, br.Get<uint32_t>("stacking category count"));
  if (categories != static_cast<uint32_t>(C)) {
    return r.Error(absl::StrCat("stacking block has ", categories, " categories, expected ", C));
  }
  StackingLayer layer;
  RETURN_IF_ERROR(GetFloats(br, layer.bias, "stacking bias"));
  RETURN_IF_ERROR(GetFloats(br, layer.weight, "stacking weight"));
  const absl::Status valid = ValidateStackingLayer(layer);
  if (!valid.ok()) return r.Error(std::string(valid.message()));
  return layer;
}

void PutStackingBlock(Writer& w, const StackingLayer& layer) {
  w.Put<uint64_t>(kStackingBlockBytes);
  w.Put<uint32_t>(static_cast<uint32_t>(C));
  for (const float v : layer.bias) w.Put(v);
  for (const float v : layer.weight) w.Put(v);
}

}  // namespace

absl::StatusOr<ModelFileContents> ParseEnsembleBody(Reader& r, uint32_t version, size_t total,
                                                    std::string_view origin) {
  ASSIGN_OR_RETURN(const uint32_t header_len, r.Get<uint32_t>("header length"));
  if (header_len > kMaxHeaderBytes) return r.Error("header length too large");
  ASSIGN_OR_RETURN(const std::string_view header, r.GetBytes(header_len, "header"));
  ModelFileContents out;
  out.kind = ModelKind::kEnsemble;
  Reader hr(header, origin);
  ASSIGN_OR_RETURN(const std::string_view id, hr.GetString("id"));
  out.ensemble_id = std::string(id);
  RETURN_IF_ERROR(GetFloats(hr, out.ensemble_threshold, "ensemble threshold"));
  ASSIGN_OR_RETURN(const uint32_t hierarchy, hr.Get<uint32_t>("ensemble hierarchy"));
  if (hierarchy > static_cast<uint32_t>(Hierarchy::kChildAtMostParent)) {
    return r.Error(absl::StrCat("unknown ensemble hierarchy mode ", hierarchy));
  }
  out.ensemble_hierarchy = static_cast<Hierarchy>(hierarchy);
  if (hr.pos() != header.size()) return r.Error("header has trailing bytes");
  for (const float t : out.ensemble_threshold) {
    if (!(t > 0.0f && t <= 1.0f)) return r.Error("ensemble threshold outside (0, 1]");
  }
  ASSIGN_OR_RETURN(ModelFileContents linear,
                   ParseMember(r, origin, ModelKind::kLinear, "linear member"));
  ASSIGN_OR_RETURN(ModelFileContents bag,
                   ParseMember(r, origin, ModelKind::kEmbeddingBag, "bag member"));
  if (version >= kModelFormatVersionStacking) {
    ASSIGN_OR_RETURN(out.ensemble_stacking, ParseStackingBlock(r));
  }
  if (r.pos() + 4 != total) return r.Error("unexpected bytes after the ensemble members");
  out.linear = std::move(linear.linear);
  out.bag = std::move(bag.bag);
  return out;
}

absl::StatusOr<std::string> SerializeEnsemble(const ModelFileContents& contents) {
  for (const float t : contents.ensemble_threshold) {
    if (!(t > 0.0f && t <= 1.0f)) {
      return absl::InvalidArgumentError("ensemble threshold outside (0, 1]");
    }
  }
  if (contents.ensemble_stacking.has_value()) {
    RETURN_IF_ERROR(ValidateStackingLayer(*contents.ensemble_stacking));
  }
  ASSIGN_OR_RETURN(const std::string linear, SerializeFastModel(contents.linear));
  ASSIGN_OR_RETURN(const std::string bag, SerializeBagModel(contents.bag));
  Writer header;
  header.PutString(contents.ensemble_id.substr(0, 1024));
  for (const float v : contents.ensemble_threshold) header.Put(v);
  header.Put<uint32_t>(static_cast<uint32_t>(contents.ensemble_hierarchy));
  Writer file;
  file.PutBytes(kMagic, sizeof(kMagic));
  // An older reader must refuse the whole file by its version, not deep inside a member;
  // without a stacking layer the file is byte for byte what earlier builds wrote.
  const uint32_t version = contents.ensemble_stacking.has_value()
                               ? kModelFormatVersionStacking
                               : std::max(VersionWithKindFor(contents.linear.features),
                                          VersionWithKindFor(contents.bag.features));
  file.Put<uint32_t>(version);
  file.Put<uint32_t>(static_cast<uint32_t>(ModelKind::kEnsemble));
  file.Put<uint32_t>(static_cast<uint32_t>(header.out().size()));
  file.PutBytes(header.out().data(), header.out().size());
  file.Put<uint64_t>(linear.size());
  file.PutBytes(linear.data(), linear.size());
  file.Put<uint64_t>(bag.size());
  file.PutBytes(bag.data(), bag.size());
  if (contents.ensemble_stacking.has_value()) PutStackingBlock(file, *contents.ensemble_stacking);
  file.Put<uint32_t>(Crc32(file.out()));
  return std::move(file.out());
}

}  // namespace warden::moderation::wmod
