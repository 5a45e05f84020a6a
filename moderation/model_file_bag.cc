// The embedding-bag kind (2) of the .wmod format.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/wmod_codec.h"

namespace warden::moderation {
namespace wmod {

// Bag body: u32 header length, header {u32 text_fold_version, feature config (5 x u32;
// version 3: 6 x u32),
// u32 C, C names, id, u32 dim, u32 hidden, u32 hierarchy, C x f32 threshold, C x f32
// out_bias}, then embedding_scale, u64 embedding byte count + int8 embeddings,
// hidden_weights, hidden_bias, out_weights (float arrays as u32 count + f32 values).
absl::StatusOr<BagModel> ParseBagBody(Reader& r, uint32_t version, size_t total) {
  ASSIGN_OR_RETURN(const uint32_t header_len, r.Get<uint32_t>("header length"));
  if (header_len > kMaxHeaderBytes) return r.Error("header length too large");
  ASSIGN_OR_RETURN(const std::string_view header, r.GetBytes(header_len, "header"));
  BagModel m;
  Reader hr(header, r.origin());
  ASSIGN_OR_RETURN(m.text_fold_version, hr.Get<uint32_t>("text_fold_version"));
  RETURN_IF_ERROR(GetFeatureConfig(hr, version, m.features));
  RETURN_IF_ERROR(GetCategoryNames(hr));
  ASSIGN_OR_RETURN(const std::string_view id, hr.GetString("id"));
  m.id = std::string(id);
  ASSIGN_OR_RETURN(m.dim, hr.Get<uint32_t>("dim"));
  ASSIGN_OR_RETURN(m.hidden, hr.Get<uint32_t>("hidden"));
  ASSIGN_OR_RETURN(const uint32_t hierarchy, hr.Get<uint32_t>("hierarchy"));
  m.hierarchy = static_cast<Hierarchy>(hierarchy);
  RETURN_IF_ERROR(GetFloats(hr, m.threshold, "threshold"));
  RETURN_IF_ERROR(GetFloats(hr, m.out_bias, "out_bias"));
  if (hr.pos() != header.size()) return r.Error("header has trailing bytes");
  RETURN_IF_ERROR(ValidateFeatureConfig(m.features));
  if (m.dim < 8 || m.dim > 256 || m.hidden > 512) {
    return r.Error(absl::StrCat("dim ", m.dim, " or hidden ", m.hidden, " out of range"));
  }
  RETURN_IF_ERROR(GetFloatArray(r, m.dim, "embedding_scale", m.embedding_scale));
  ASSIGN_OR_RETURN(const uint64_t embedding_bytes, r.Get<uint64_t>("embedding count"));
  const uint64_t expected = (uint64_t{1} << m.features.buckets_log2) * m.dim;
  if (embedding_bytes != expected) {
    return r.Error(absl::StrCat("embedding count ", embedding_bytes, ", expected ", expected));
  }
  ASSIGN_OR_RETURN(const std::string_view embeddings, r.GetBytes(embedding_bytes, "embeddings"));
  m.embeddings.resize(embeddings.size());
  std::memcpy(m.embeddings.data(), embeddings.data(), embeddings.size());
  RETURN_IF_ERROR(GetFloatArray(r, size_t{m.hidden} * m.dim, "hidden_weights", m.hidden_weights));
  RETURN_IF_ERROR(GetFloatArray(r, m.hidden, "hidden_bias", m.hidden_bias));
  RETURN_IF_ERROR(GetFloatArray(r, size_t{HeadInputs(m)} * kNumCategories, "out_weights",
                                m.out_weights));
  if (r.pos() + 4 != total) return r.Error("unexpected bytes after the head weights");
  absl::Status valid = ValidateBagModel(m);
  if (!valid.ok()) return r.Error(std::string(valid.message()));
  return m;
}

}  // namespace wmod

using wmod::kMagic;
using wmod::PutFeatureConfig;
using wmod::PutFloatArray;
using wmod::VersionWithKindFor;
using wmod::Writer;

absl::StatusOr<std::string> SerializeBagModel(const BagModel& m) {
  RETURN_IF_ERROR(ValidateBagModel(m));
  Writer header;
  header.Put<uint32_t>(m.text_fold_version);
  PutFeatureConfig(header, m.features);
  header.Put<uint32_t>(kNumCategories);
  for (const auto category : kCategories) header.PutString(CategoryName(category));
  header.PutString(m.id.substr(0, 1024));
  header.Put<uint32_t>(m.dim);
  header.Put<uint32_t>(m.hidden);
  header.Put<uint32_t>(static_cast<uint32_t>(m.hierarchy));
  for (const float v : m.threshold) header.Put(v);
  for (const float v : m.out_bias) header.Put(v);

  Writer file;
  file.PutBytes(kMagic, sizeof(kMagic));
  file.Put<uint32_t>(VersionWithKindFor(m.features));
  file.Put<uint32_t>(static_cast<uint32_t>(ModelKind::kEmbeddingBag));
  file.Put<uint32_t>(static_cast<uint32_t>(header.out().size()));
  file.PutBytes(header.out().data(), header.out().size());
  PutFloatArray(file, m.embedding_scale);
  file.Put<uint64_t>(m.embeddings.size());
  file.PutBytes(m.embeddings.data(), m.embeddings.size());
  PutFloatArray(file, m.hidden_weights);
  PutFloatArray(file, m.hidden_bias);
  PutFloatArray(file, m.out_weights);
  file.Put<uint32_t>(Crc32(file.out()));
  return std::move(file.out());
}

}  // namespace warden::moderation
