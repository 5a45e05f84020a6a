#include "moderation/wmod_codec.h"

namespace warden::moderation::wmod {

uint32_t VersionWithKindFor(const FeatureConfig& f) {
  return f.repeats == kCountEvery ? kModelFormatVersionWithKind : kModelFormatVersionRepeats;
}

void PutFeatureConfig(Writer& w, const FeatureConfig& f) {
  w.Put<uint32_t>(f.buckets_log2);
  w.Put<uint32_t>(f.char_min);
  w.Put<uint32_t>(f.char_max);
  w.Put<uint32_t>(f.word_bigrams ? 1 : 0);
  w.Put<uint32_t>(f.length_norm);
  if (VersionWithKindFor(f) >= kModelFormatVersionRepeats) w.Put<uint32_t>(f.repeats);
}

absl::Status GetFeatureConfig(Reader& r, uint32_t version, FeatureConfig& f) {
  ASSIGN_OR_RETURN(f.buckets_log2, r.Get<uint32_t>("buckets_log2"));
  ASSIGN_OR_RETURN(f.char_min, r.Get<uint32_t>("char_min"));
  ASSIGN_OR_RETURN(f.char_max, r.Get<uint32_t>("char_max"));
  ASSIGN_OR_RETURN(const uint32_t bigrams, r.Get<uint32_t>("word_bigrams"));
  f.word_bigrams = bigrams != 0;
  ASSIGN_OR_RETURN(f.length_norm, r.Get<uint32_t>("length_norm"));
  f.repeats = kCountEvery;
  if (version >= kModelFormatVersionRepeats) {
    ASSIGN_OR_RETURN(f.repeats, r.Get<uint32_t>("repeats"));
  }
  return absl::OkStatus();
}

void PutFloatArray(Writer& w, const std::vector<float>& values) {
  w.Put<uint32_t>(static_cast<uint32_t>(values.size()));
  w.PutBytes(values.data(), values.size() * sizeof(float));
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

}  // namespace warden::moderation::wmod
