// Internal to //moderation:model_file: the byte-level codec shared by the model kinds of
// the .wmod format (see model_file.h) and the parsers of each kind's body.
//
// Thread safety: Reader and Writer are values used by one thread; the functions are pure.
#ifndef WARDEN_MODERATION_WMOD_CODEC_H_
#define WARDEN_MODERATION_WMOD_CODEC_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/bag_model.h"
#include "moderation/model_file.h"

namespace warden::moderation::wmod {

inline constexpr char kMagic[4] = {'W', 'M', 'O', 'D'};
inline constexpr size_t kMaxHeaderBytes = 1 << 16;

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

// The format version a model with feature config `f` is written as: version 3 when it
// counts repeated features once, else version 2 (kinds 2, 3) or 1 (linear).
uint32_t VersionWithKindFor(const FeatureConfig& f);
// Five u32, plus `repeats` when VersionWithKindFor(f) is 3; Get reads what `version` has.
void PutFeatureConfig(Writer& w, const FeatureConfig& f);
absl::Status GetFeatureConfig(Reader& r, uint32_t version, FeatureConfig& f);
void PutFloatArray(Writer& w, const std::vector<float>& values);
// Reads a u32 count and that many floats; the count must equal `expected`.
absl::Status GetFloatArray(Reader& r, size_t expected, std::string_view field,
                           std::vector<float>& out);
// Reads the category count and names and checks them against the taxonomy.
absl::Status GetCategoryNames(Reader& r);

// Parses a whole file; `allow_ensemble` is false for the members of an ensemble, which
// bounds the nesting (model_file.cc).
absl::StatusOr<ModelFileContents> ParseAnyKind(std::string_view bytes, std::string_view origin,
                                               bool allow_ensemble);
// Body parsers; `r` stands after the kind field, `total` is the file size (model_file_bag.cc,
// model_file_ensemble.cc).
absl::StatusOr<BagModel> ParseBagBody(Reader& r, uint32_t version, size_t total);
absl::StatusOr<ModelFileContents> ParseEnsembleBody(Reader& r, uint32_t version, size_t total,
                                                   std::string_view origin);
// A complete kind-3 file (model_file_ensemble.cc).
absl::StatusOr<std::string> SerializeEnsemble(const ModelFileContents& contents);

}  // namespace warden::moderation::wmod

#endif  // WARDEN_MODERATION_WMOD_CODEC_H_
