#include "moderation/model_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

constexpr char kMagic[4] = {'W', 'M', 'O', 'D'};
constexpr size_t kMaxHeaderBytes = 1 << 16;

// Appends little-endian encodings (x86 and ARM hosts are little-endian; a big-endian host
// would need byte swaps here and in Reader).
class Writer {
 public:
  template <typename T>
  void Put(T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint16_t>(static_cast<uint16_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void PutBytes(const void* data, size_t n) {
    if (n > 0) out_.append(static_cast<const char*>(data), n);  // data may be null when n == 0
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reader; every failure names the field being read.
class Reader {
 public:
  Reader(std::string_view bytes, std::string_view origin) : bytes_(bytes), origin_(origin) {}

  template <typename T>
  absl::StatusOr<T> Get(std::string_view field) {
    if (bytes_.size() - pos_ < sizeof(T)) return Truncated(field);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  absl::StatusOr<std::string_view> GetBytes(size_t n, std::string_view field) {
    if (bytes_.size() - pos_ < n) return Truncated(field);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  absl::StatusOr<std::string_view> GetString(std::string_view field) {
    ASSIGN_OR_RETURN(const uint16_t n, Get<uint16_t>(field));
    return GetBytes(n, field);
  }
  absl::Status Error(std::string_view message) const {
    return absl::DataLossError(absl::StrCat(std::string(origin_), ": ", std::string(message)));
  }
  size_t pos() const { return pos_; }
  std::string_view origin() const { return origin_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  absl::Status Truncated(std::string_view field) const {
    return absl::DataLossError(
        absl::StrCat(std::string(origin_), ": truncated model file while reading ",
                     std::string(field), " at byte ", pos_));
  }
  std::string_view bytes_;
  std::string_view origin_;
  size_t pos_ = 0;
};

template <size_t N>
absl::Status GetFloats(Reader& r, std::array<float, N>& out, std::string_view field) {
  for (float& v : out) {
    ASSIGN_OR_RETURN(v, r.Get<float>(field));
  }
  return absl::OkStatus();
}

absl::Status ParseHeader(Reader& r, FastModel& model) {
  ASSIGN_OR_RETURN(model.text_fold_version, r.Get<uint32_t>("text_fold_version"));
  ASSIGN_OR_RETURN(model.features.buckets_log2, r.Get<uint32_t>("buckets_log2"));
  ASSIGN_OR_RETURN(model.features.char_min, r.Get<uint32_t>("char_min"));
  ASSIGN_OR_RETURN(model.features.char_max, r.Get<uint32_t>("char_max"));
  ASSIGN_OR_RETURN(const uint32_t bigrams, r.Get<uint32_t>("word_bigrams"));
  model.features.word_bigrams = bigrams != 0;
  ASSIGN_OR_RETURN(const uint32_t num_categories, r.Get<uint32_t>("num_categories"));
  if (num_categories != kNumCategories) {
    return r.Error(absl::StrCat("num_categories is ", num_categories, ", expected ",
                                kNumCategories));
  }
  for (int i = 0; i < kNumCategories; ++i) {
    ASSIGN_OR_RETURN(const std::string_view name, r.GetString("category name"));
    if (name != CategoryName(kCategories[i])) {
      return r.Error(absl::StrCat("category ", i, " is \"", std::string(name),
                                  "\", expected \"", std::string(CategoryName(kCategories[i])),
                                  "\""));
    }
  }
  ASSIGN_OR_RETURN(const std::string_view id, r.GetString("id"));
  model.id = std::string(id);
  RETURN_IF_ERROR(GetFloats(r, model.bias, "bias"));
  RETURN_IF_ERROR(GetFloats(r, model.scale, "scale"));
  RETURN_IF_ERROR(GetFloats(r, model.threshold, "threshold"));
  if (r.remaining() >= sizeof(uint32_t)) {
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

  Writer file;
  file.PutBytes(kMagic, sizeof(kMagic));
  file.Put<uint32_t>(kModelFormatVersion);
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
  if (version != kModelFormatVersion && version != kModelFormatVersionWithKind) {
    return r.Error(absl::StrCat("unsupported model format version ", version, " (this build reads ",
                                kModelFormatVersion, " and ", kModelFormatVersionWithKind, ")"));
  }
  if (bytes.size() < 4 + 4 + 4) return r.Error("truncated model file (no checksum)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + bytes.size() - 4, sizeof(stored_crc));
  if (Crc32(bytes.substr(0, bytes.size() - 4)) != stored_crc) {
    return r.Error("checksum mismatch (file corrupt or truncated)");
  }
  return version;
}

absl::StatusOr<FastModel> ParseLinearBody(Reader& r, size_t total) {
  ASSIGN_OR_RETURN(const uint32_t header_len, r.Get<uint32_t>("header length"));
  if (header_len > kMaxHeaderBytes) return r.Error("header length too large");
  ASSIGN_OR_RETURN(const std::string_view header, r.GetBytes(header_len, "header"));
  FastModel model;
  Reader hr(header, r.origin());
  RETURN_IF_ERROR(ParseHeader(hr, model));
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

void PutFeatureConfig(Writer& w, const FeatureConfig& f) {
  w.Put<uint32_t>(f.buckets_log2);
  w.Put<uint32_t>(f.char_min);
  w.Put<uint32_t>(f.char_max);
  w.Put<uint32_t>(f.word_bigrams ? 1 : 0);
  w.Put<uint32_t>(f.length_norm);
}

absl::Status GetFeatureConfig(Reader& r, FeatureConfig& f) {
  ASSIGN_OR_RETURN(f.buckets_log2, r.Get<uint32_t>("buckets_log2"));
  ASSIGN_OR_RETURN(f.char_min, r.Get<uint32_t>("char_min"));
  ASSIGN_OR_RETURN(f.char_max, r.Get<uint32_t>("char_max"));
  ASSIGN_OR_RETURN(const uint32_t bigrams, r.Get<uint32_t>("word_bigrams"));
  f.word_bigrams = bigrams != 0;
  ASSIGN_OR_RETURN(f.length_norm, r.Get<uint32_t>("length_norm"));
  return absl::OkStatus();
}

void PutFloatArray(Writer& w, const std::vector<float>& values) {
  w.Put<uint32_t>(static_cast<uint32_t>(values.size()));
  w.PutBytes(values.data(), values.size() * sizeof(float));
}

// Reads a u32 count and that many floats; the count must equal `expected`.
absl::Status GetFloatArray(Reader& r, size_t expected, std::string_view field,
                           std::vector<float>& out) {
  ASSIGN_OR_RETURN(const uint32_t n, r.Get<uint32_t>(field));
  if (n != expected) {
    return r.Error(absl::StrCat(std::string(field), " has ", n, " values, expected ", expected));
  }
  ASSIGN_OR_RETURN(const std::string_view bytes, r.GetBytes(size_t{n} * sizeof(float), field));
  out.resize(n);
  if (n > 0) std::memcpy(out.data(), bytes.data(), bytes.size());  // data() may be null
  return absl::OkStatus();
}

absl::Status GetCategoryNames(Reader& r) {
  ASSIGN_OR_RETURN(const uint32_t num_categories, r.Get<uint32_t>("num_categories"));
  if (num_categories != kNumCategories) {
    return r.Error(absl::StrCat("num_categories is ", num_categories, ", expected ",
                                kNumCategories));
  }
  for (int i = 0; i < kNumCategories; ++i) {
    ASSIGN_OR_RETURN(const std::string_view name, r.GetString("category name"));
    if (name != CategoryName(kCategories[i])) {
      return r.Error(absl::StrCat("category ", i, " is \"", std::string(name), "\", expected \"",
                                  std::string(CategoryName(kCategories[i])), "\""));
    }
  }
  return absl::OkStatus();
}

// Bag body: u32 header length, header {u32 text_fold_version, feature config (5 x u32),
// u32 C, C names, id, u32 dim, u32 hidden, u32 hierarchy, C x f32 threshold, C x f32
// out_bias}, then embedding_scale, u64 embedding byte count + int8 embeddings,
// hidden_weights, hidden_bias, out_weights (float arrays as u32 count + f32 values).
absl::StatusOr<BagModel> ParseBagBody(Reader& r, size_t total) {
  ASSIGN_OR_RETURN(const uint32_t header_len, r.Get<uint32_t>("header length"));
  if (header_len > kMaxHeaderBytes) return r.Error("header length too large");
  ASSIGN_OR_RETURN(const std::string_view header, r.GetBytes(header_len, "header"));
  BagModel m;
  Reader hr(header, r.origin());
  ASSIGN_OR_RETURN(m.text_fold_version, hr.Get<uint32_t>("text_fold_version"));
  RETURN_IF_ERROR(GetFeatureConfig(hr, m.features));
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

absl::StatusOr<ModelFileContents> ParseEnsembleBody(Reader& r, size_t total, std::string_view origin);

// `allow_ensemble` is false for the members of an ensemble, which bounds the nesting.
absl::StatusOr<ModelFileContents> ParseAnyKind(std::string_view bytes, std::string_view origin,
                                               bool allow_ensemble) {
  Reader r(bytes, origin);
  ASSIGN_OR_RETURN(const uint32_t version, ParseEnvelope(r, bytes));
  ModelFileContents out;
  if (version == kModelFormatVersion) {
    out.kind = ModelKind::kLinear;
    ASSIGN_OR_RETURN(out.linear, ParseLinearBody(r, bytes.size()));
    return out;
  }
  ASSIGN_OR_RETURN(const uint32_t kind, r.Get<uint32_t>("model kind"));
  if (kind == static_cast<uint32_t>(ModelKind::kLinear)) {
    out.kind = ModelKind::kLinear;
    ASSIGN_OR_RETURN(out.linear, ParseLinearBody(r, bytes.size()));
    return out;
  }
  if (kind == static_cast<uint32_t>(ModelKind::kEmbeddingBag)) {
    out.kind = ModelKind::kEmbeddingBag;
    ASSIGN_OR_RETURN(out.bag, ParseBagBody(r, bytes.size()));
    return out;
  }
  if (kind == static_cast<uint32_t>(ModelKind::kEnsemble)) {
    if (!allow_ensemble) return r.Error("an ensemble cannot be a member of an ensemble");
    return ParseEnsembleBody(r, bytes.size(), origin);
  }
  return r.Error(absl::StrCat("unsupported model kind ", kind,
                              " (this build reads 1 = linear, 2 = embedding bag, 3 = ensemble)"));
}

}  // namespace

absl::StatusOr<ModelFileContents> ParseModelFile(std::string_view bytes, std::string_view origin) {
  return ParseAnyKind(bytes, origin, /*allow_ensemble=*/true);
}

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

}  // namespace

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
  file.Put<uint32_t>(kModelFormatVersionWithKind);
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

absl::StatusOr<FastModel> ParseFastModel(std::string_view bytes, std::string_view origin) {
  ASSIGN_OR_RETURN(ModelFileContents contents, ParseModelFile(bytes, origin));
  if (contents.kind != ModelKind::kLinear) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(origin), ": an embedding-bag or ensemble model, not a linear model"));
  }
  return std::move(contents.linear);
}

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
  file.Put<uint32_t>(kModelFormatVersionWithKind);
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

namespace {

absl::Status WriteBytes(const std::string& bytes, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write model file ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open model file ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read model file ", path));
  return buffer.str();
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
