// The ensemble kind (3) of the .wmod format: two complete member files and the
// ensemble's own header.
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

}  // namespace

absl::StatusOr<ModelFileContents> ParseEnsembleBody(Reader& r, size_t total, std::string_view origin) {
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
  ASSIGN_OR_RETURN(const std::string linear, SerializeFastModel(contents.linear));
  ASSIGN_OR_RETURN(const std::string bag, SerializeBagModel(contents.bag));
  Writer header;
  header.PutString(contents.ensemble_id.substr(0, 1024));
  for (const float v : contents.ensemble_threshold) header.Put(v);
  header.Put<uint32_t>(static_cast<uint32_t>(contents.ensemble_hierarchy));
  Writer file;
  file.PutBytes(kMagic, sizeof(kMagic));
  // An older reader must refuse the whole file by its version, not deep inside a member.
  file.Put<uint32_t>(std::max(VersionWithKindFor(contents.linear.features),
                              VersionWithKindFor(contents.bag.features)));
  file.Put<uint32_t>(static_cast<uint32_t>(ModelKind::kEnsemble));
  file.Put<uint32_t>(static_cast<uint32_t>(header.out().size()));
  file.PutBytes(header.out().data(), header.out().size());
  file.Put<uint64_t>(linear.size());
  file.PutBytes(linear.data(), linear.size());
  file.Put<uint64_t>(bag.size());
  file.PutBytes(bag.data(), bag.size());
  file.Put<uint32_t>(Crc32(file.out()));
  return std::move(file.out());
}

}  // namespace warden::moderation::wmod
