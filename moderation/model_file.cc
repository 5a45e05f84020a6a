#include "moderation/model_file.h"

#include <cmath>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "moderation/wmod_codec.h"

namespace warden::moderation {
namespace {

using wmod::GetFloats;
using wmod::kMagic;
using wmod::kMaxHeaderBytes;
using wmod::Reader;
using wmod::Writer;


absl::Status ParseHeader(Reader& r, uint32_t version, FastModel& model) {
  ASSIGN_OR_RETURN(model.text_fold_version, r.Get<uint32_t>("text_fold_version"));
  ASSIGN_OR_RETURN(model.features.buckets_log2, r.Get<uint32_t>("buckets_log2"));
  ASSIGN_OR_RETURN(model.features.char_min, r.Get<uint32_t>("char_min"));
  ASSIGN_OR_RETURN(model.features.char_max, r.Get<uint32_t>("char_max"));
  ASSIGN_OR_RETURN(const uint32_t bigrams, r.Get<uint32_t>("word_bigrams"));
  model.features.word_bigrams = bigrams != 0;
  RETURN_IF_ERROR(wmod::GetCategoryNames(r));
  ASSIGN_OR_RETURN(const std::string_view id, r.GetString("id"));
  model.id = std::string(id);
  RETURN_IF_ERROR(GetFloats(r, model.bias, "bias"));
  RETURN_IF_ERROR(GetFloats(r, model.scale, "scale"));
  RETURN_IF_ERROR(GetFloats(r, model.threshold, "threshold"));
  if (version >= kModelFormatVersionRepeats) {
    ASSIGN_OR_RETURN(model.features.length_norm, r.Get<uint32_t>("length_norm"));
    ASSIGN_OR_RETURN(model.features.repeats, r.Get<uint32_t>("repeats"));
  } else if (r.remaining() >= sizeof(uint32_t)) {
    ASSIGN_OR_RETURN(model.features.length_norm, r.Get<uint32_t>("length_norm"));
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  static const auto* const kTable = [] {
    auto* table = new std::array<uint32_t, 256>();
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      (*table)[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (const char ch : bytes) crc = (*kTable)[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

absl::Status ValidateFastModel(const FastModel& model) {
  RETURN_IF_ERROR(ValidateFeatureConfig(model.features));
  const size_t expected = (size_t{1} << model.features.buckets_log2) * kNumCategories;
  if (model.weights.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("model weights has ", model.weights.size(),
                                                   " entries, expected ", expected));
  }
  for (int c = 0; c < kNumCategories; ++c) {
    if (!std::isfinite(model.bias[c]) || !std::isfinite(model.scale[c])) {
      return absl::InvalidArgumentError(
          absl::StrCat("model bias/scale of ", std::string(CategoryName(kCategories[c])),
                       " is not finite"));
    }
    if (!(model.threshold[c] > 0.0f && model.threshold[c] <= 1.0f)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model threshold of ", std::string(CategoryName(kCategories[c])), " is ", model.threshold[c],
          ", expected (0, 1]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeFastModel(const FastModel& model) {
  RETURN_IF_ERROR(ValidateFastModel(model));
  Writer header;
  header.Put<uint32_t>(model.text_fold_version);
  header.Put<uint32_t>(model.features.buckets_log2);
  header.Put<uint32_t>(model.features.char_min);
  header.Put<uint32_t>(model.features.char_max);
  header.Put<uint32_t>(model.features.word_bigrams ? 1 : 0);
  header.Put<uint32_t>(kNumCategories);
  for (const auto category : kCategories) header.PutString(CategoryName(category));
  header.PutString(model.id.substr(0, 1024));
  for (const float v : model.bias) header.Put(v);
  for (const float v : model.scale) header.Put(v);
  for (const float v : model.threshold) header.Put(v);
  header.Put<uint32_t>(model.features.length_norm);
  // Counting every occurrence: version 1, readable by every older build; else version 3.
  const uint32_t version = wmod::VersionWithKindFor(model.features);
  if (version >= kModelFormatVersionRepeats) header.Put<uint32_t>(model.features.repeats);

  Writer file;
  file.PutBytes(kMagic, sizeof(kMagic));
  if (version >= kModelFormatVersionRepeats) {
    file.Put<uint32_t>(version);
    file.Put<uint32_t>(static_cast<uint32_t>(ModelKind::kLinear));
  } else {
    file.Put<uint32_t>(kModelFormatVersion);
  }
  file.Put<uint32_t>(static_cast<uint32_t>(header.out().size()));
  file.PutBytes(header.out().data(), header.out().size());
  file.Put<uint64_t>(model.weights.size());
  file.PutBytes(model.weights.data(), model.weights.size());
  file.Put<uint32_t>(Crc32(file.out()));
  return std::move(file.out());
}

namespace {

// Checks magic and checksum; returns the format version and leaves `r` after it.
absl::StatusOr<uint32_t> ParseEnvelope(Reader& r, std::string_view bytes) {
  ASSIGN_OR_RETURN(const std::string_view magic, r.GetBytes(sizeof(kMagic), "magic"));
  if (magic != std::string_view(kMagic, sizeof(kMagic))) {
    return r.Error("not a Warden model file (bad magic)");
  }
  ASSIGN_OR_RETURN(const uint32_t version, r.Get<uint32_t>("version"));
  if (version < kModelFormatVersion || version > kModelFormatVersionStacking) {
    return r.Error(absl::StrCat("unsupported model format version ", version, " (this build reads ",
                                kModelFormatVersion, " to ", kModelFormatVersionStacking, ")"));
  }
  if (bytes.size() < 4 + 4 + 4) return r.Error("truncated model file (no checksum)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + bytes.size() - 4, sizeof(stored_crc));
  if (Crc32(bytes.substr(0, bytes.size() - 4)) != stored_crc) {
    return r.Error("checksum mismatch (file corrupt or truncated)");
  }
  return version;
}

absl::StatusOr<FastModel> ParseLinearBody(Reader& r, uint32_t version, size_t total) {
  ASSIGN_OR_RETURN(const uint32_t header_len, r.Get<uint32_t>("header length"));
  if (header_len > kMaxHeaderBytes) return r.Error("header length too large");
  ASSIGN_OR_RETURN(const std::string_view header, r.GetBytes(header_len, "header"));
  FastModel model;
  Reader hr(header, r.origin());
  RETURN_IF_ERROR(ParseHeader(hr, version, model));
  if (hr.pos() != header.size()) return r.Error("header has trailing bytes");
  RETURN_IF_ERROR(ValidateFeatureConfig(model.features));
  ASSIGN_OR_RETURN(const uint64_t weight_bytes, r.Get<uint64_t>("weight count"));
  const uint64_t expected = (uint64_t{1} << model.features.buckets_log2) * kNumCategories;
  if (weight_bytes != expected) {
    return r.Error(absl::StrCat("weight count ", weight_bytes, ", expected ", expected));
  }
  ASSIGN_OR_RETURN(const std::string_view weights, r.GetBytes(weight_bytes, "weights"));
  model.weights.resize(weights.size());
  std::memcpy(model.weights.data(), weights.data(), weights.size());
  if (r.pos() + 4 != total) return r.Error("unexpected bytes after the weights");
  absl::Status valid = ValidateFastModel(model);
  if (!valid.ok()) return r.Error(std::string(valid.message()));
  return model;
}

}  // namespace

namespace wmod {

absl::StatusOr<ModelFileContents> ParseAnyKind(std::string_view bytes, std::string_view origin,
                                               bool allow_ensemble) {
  Reader r(bytes, origin);
  ASSIGN_OR_RETURN(const uint32_t version, ParseEnvelope(r, bytes));
  ModelFileContents out;
  if (version == kModelFormatVersion) {
    out.kind = ModelKind::kLinear;
    ASSIGN_OR_RETURN(out.linear, ParseLinearBody(r, version, bytes.size()));
    return out;
  }
  ASSIGN_OR_RETURN(const uint32_t kind, r.Get<uint32_t>("model kind"));
  if (version == kModelFormatVersionStacking && kind != static_cast<uint32_t>(ModelKind::kEnsemble)) {
    return r.Error(absl::StrCat("model format version 4 is only for ensembles, not kind ", kind));
  }
  if (kind == static_cast<uint32_t>(ModelKind::kLinear)) {
    out.kind = ModelKind::kLinear;
    ASSIGN_OR_RETURN(out.linear, ParseLinearBody(r, version, bytes.size()));
    return out;
  }
  if (kind == static_cast<uint32_t>(ModelKind::kEmbeddingBag)) {
    out.kind = ModelKind::kEmbeddingBag;
    ASSIGN_OR_RETURN(out.bag, ParseBagBody(r, version, bytes.size()));
    return out;
  }
  if (kind == static_cast<uint32_t>(ModelKind::kEnsemble)) {
    if (!allow_ensemble) return r.Error("an ensemble cannot be a member of an ensemble");
    return ParseEnsembleBody(r, version, bytes.size(), origin);
  }
  return r.Error(absl::StrCat("unsupported model kind ", kind,
                              " (this build reads 1 = linear, 2 = embedding bag, 3 = ensemble)"));
}

}  // namespace wmod

absl::StatusOr<ModelFileContents> ParseModelFile(std::string_view bytes, std::string_view origin) {
  return wmod::ParseAnyKind(bytes, origin, /*allow_ensemble=*/true);
}

absl::StatusOr<std::string> SerializeModelFile(const ModelFileContents& contents) {
  if (contents.kind == ModelKind::kLinear) return SerializeFastModel(contents.linear);
  if (contents.kind == ModelKind::kEmbeddingBag) return SerializeBagModel(contents.bag);
  if (contents.kind != ModelKind::kEnsemble) {
    return absl::InvalidArgumentError("unknown model kind");
  }
  if (contents.ensemble_hierarchy != Hierarchy::kNone &&
      contents.ensemble_hierarchy != Hierarchy::kChildAtMostParent) {
    return absl::InvalidArgumentError("unknown ensemble hierarchy mode");
  }
  return wmod::SerializeEnsemble(contents);
}

absl::StatusOr<FastModel> ParseFastModel(std::string_view bytes, std::string_view origin) {
  ASSIGN_OR_RETURN(ModelFileContents contents, ParseModelFile(bytes, origin));
  if (contents.kind != ModelKind::kLinear) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(origin), ": an embedding-bag or ensemble model, not a linear model"));
  }
  return std::move(contents.linear);
}


namespace {

absl::Status WriteBytes(const std::string& bytes, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write model file ", path));
  return absl::OkStatus();
}

// base's ReadFile, with the error saying what the file was meant to be.
absl::StatusOr<std::string> ReadBytes(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(), absl::StrCat("model file: ", bytes.status().message()));
  }
  return bytes;
}

}  // namespace

absl::Status WriteFastModelFile(const FastModel& model, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, SerializeFastModel(model));
  return WriteBytes(bytes, path);
}

absl::Status WriteModelFile(const ModelFileContents& contents, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, SerializeModelFile(contents));
  return WriteBytes(bytes, path);
}

absl::Status WriteBagModelFile(const BagModel& model, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, SerializeBagModel(model));
  return WriteBytes(bytes, path);
}

absl::StatusOr<FastModel> ReadFastModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadBytes(path));
  return ParseFastModel(bytes, path);
}

absl::StatusOr<ModelFileContents> ReadModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadBytes(path));
  return ParseModelFile(bytes, path);
}

}  // namespace warden::moderation
