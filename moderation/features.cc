#include "moderation/features.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace warden::moderation {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
// Distinct seeds keep a word, a bigram and a character n-gram with equal bytes apart.
constexpr uint64_t kWordSeed = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kBigramSeed = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kCharSeed = 0x165667B19E3779F9ull;
constexpr size_t kMaxCharWord = 64;

uint64_t Fnv(std::string_view bytes, uint64_t seed) {
  uint64_t h = kFnvOffset ^ seed;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// Final avalanche (from MurmurHash3) so that the low bits used as bucket are well mixed.
uint32_t Bucket(uint64_t h, uint32_t mask) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h) & mask;
}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '\'' || c >= 0x80;
}

void AddCharNgrams(std::string_view word, const FeatureConfig& config, uint32_t mask,
                   std::vector<uint32_t>* out) {
  char padded[kMaxCharWord + 2];
  const size_t len = std::min(word.size(), kMaxCharWord);
  padded[0] = '<';
  std::copy(word.begin(), word.begin() + len, padded + 1);
  padded[len + 1] = '>';
  const std::string_view p(padded, len + 2);
  for (size_t n = config.char_min; n <= config.char_max && n <= p.size(); ++n) {
    for (size_t i = 0; i + n <= p.size(); ++i) {
      out->push_back(Bucket(Fnv(p.substr(i, n), kCharSeed + n), mask));
    }
  }
}

}  // namespace

absl::Status ValidateFeatureConfig(const FeatureConfig& config) {
  if (config.buckets_log2 < 10 || config.buckets_log2 > kMaxBucketsLog2 ||
      config.char_min < 1 ||
      config.char_min > config.char_max || config.char_max > 8 || config.length_norm > 2 ||
      config.repeats > kCountOnce) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid feature config: buckets_log2=", config.buckets_log2,
                     " char_min=", config.char_min, " char_max=", config.char_max,
                     " length_norm=", config.length_norm, " repeats=", config.repeats));
  }
  return absl::OkStatus();
}

float LengthNorm(const FeatureConfig& config, size_t n) {
  if (n == 0) return 0.0f;
  const float count = static_cast<float>(n);
  if (config.length_norm == 1) return 1.0f / count;
  if (config.length_norm == 2) return 1.0f / std::sqrt(count + kShortTextPseudoCount);
  return 1.0f / std::sqrt(count);
}

void ExtractFeatures(std::string_view folded, const FeatureConfig& config,
                     std::vector<uint32_t>* out) {
  out->clear();
  const uint32_t mask = (1u << config.buckets_log2) - 1;
  uint64_t previous_word_hash = 0;
  bool have_previous = false;
  size_t i = 0;
  while (i < folded.size()) {
    if (!IsWordByte(static_cast<unsigned char>(folded[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < folded.size() && IsWordByte(static_cast<unsigned char>(folded[end]))) ++end;
    const std::string_view word = folded.substr(i, end - i);
    const uint64_t word_hash = Fnv(word, kWordSeed);
    out->push_back(Bucket(word_hash, mask));
    if (config.word_bigrams && have_previous) {
      out->push_back(Bucket((previous_word_hash * 31) ^ word_hash ^ kBigramSeed, mask));
    }
    AddCharNgrams(word, config, mask, out);
    previous_word_hash = word_hash;
    have_previous = true;
    i = end;
  }
  if (config.repeats == kCountOnce) KeepFirstOccurrences(config.buckets_log2, out);
}

void KeepFirstOccurrences(uint32_t buckets_log2, std::vector<uint32_t>* buckets) {
  // One bit per bucket (16 KB for 2^17 buckets), all zero between calls: testing and
  // setting a bit is cheaper than probing a hash table, and clearing only the kept buckets'
  // bits afterwards costs no more than the pass itself.
  thread_local std::vector<uint64_t> seen;
  const uint64_t num_buckets = uint64_t{1} << std::min(buckets_log2, kMaxBucketsLog2);
  if (seen.size() < num_buckets / 64 + 1) seen.resize(num_buckets / 64 + 1, 0);
  size_t kept = 0;
  for (const uint32_t b : *buckets) {
    if (b >= num_buckets) continue;
    uint64_t& word = seen[b >> 6];
    const uint64_t bit = uint64_t{1} << (b & 63);
    if (word & bit) continue;
    word |= bit;
    (*buckets)[kept++] = b;
  }
  buckets->resize(kept);
  for (const uint32_t b : *buckets) seen[b >> 6] = 0;
}

}  // namespace warden::moderation
