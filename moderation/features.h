// Hashed n-gram features of folded text, shared by training and scoring.
//
// Features: word unigrams and bigrams, and character n-grams (lengths char_min..char_max)
// of each word padded with a boundary mark, all hashed (64-bit FNV-1a with a per-kind seed)
// into 2^buckets_log2 buckets. A word is a maximal run of ASCII letters, digits,
// apostrophes and non-ASCII bytes; other characters separate words. A feature may occur
// several times; with `repeats` kCountEvery the classifier sums weights over all
// occurrences, with kCountOnce (models from default-v4 on) each distinct bucket counts
// once, so that repeating a word or a sentence cannot push a score further than one
// occurrence does. The sum is scaled by LengthNorm(n) of the number n of buckets returned.
//
// Thread safety: pure functions (the de-duplication uses a thread-local bitmap), thread-safe.
#ifndef WARDEN_MODERATION_FEATURES_H_
#define WARDEN_MODERATION_FEATURES_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace warden::moderation {

struct FeatureConfig {
  uint32_t buckets_log2 = 18;
  uint32_t char_min = 3;
  uint32_t char_max = 5;
  bool word_bigrams = true;
  // How a weight sum is scaled by the number n of feature occurrences: 0 = 1/sqrt(n),
  // 1 = 1/n (the mean, as fastText does), 2 = 1/sqrt(n + kShortTextPseudoCount): a short
  // text is scaled down as if it had that many more, neutral, features, so that one
  // ambiguous word cannot carry it far from the bias.
  uint32_t length_norm = 0;
  // How repeated features count: kCountEvery (0, every occurrence, models up to v3) or
  // kCountOnce (1, each distinct bucket once: a binary bag of features).
  uint32_t repeats = 0;
};

inline constexpr uint32_t kCountEvery = 0;
inline constexpr uint32_t kCountOnce = 1;

// Pseudo-count of length_norm 2 (a one-word text has about 20 occurrences, a sentence
// about 70, 1 KB of text about 1,500).
inline constexpr float kShortTextPseudoCount = 64.0f;

// The scale applied to the summed weights of `n` feature occurrences (0 for n = 0).
float LengthNorm(const FeatureConfig& config, size_t n);

// InvalidArgument unless 10 <= buckets_log2 <= 24, 1 <= char_min <= char_max <= 8,
// length_norm is 0, 1 or 2 and repeats is kCountEvery or kCountOnce.
absl::Status ValidateFeatureConfig(const FeatureConfig& config);

// Replaces `out` with the bucket of every feature occurrence of `folded` (the output of
// FoldText), or with kCountOnce of every distinct bucket in order of first occurrence.
// Words longer than 64 bytes contribute only their first 64 bytes to character n-grams,
// which bounds the work per byte. Training and scoring both call this, so both see the
// same features.
void ExtractFeatures(std::string_view folded, const FeatureConfig& config,
                     std::vector<uint32_t>* out);

// Largest buckets_log2 a FeatureConfig may have.
inline constexpr uint32_t kMaxBucketsLog2 = 24;

// Removes repeated buckets from `buckets` in place, keeping the first occurrence of each
// (linear time; the order of the kept buckets is unchanged). Buckets must be below
// 2^buckets_log2 (buckets_log2 is capped at kMaxBucketsLog2); others are dropped.
void KeepFirstOccurrences(uint32_t buckets_log2, std::vector<uint32_t>* buckets);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_FEATURES_H_
