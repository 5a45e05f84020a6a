// Pieces shared by the linear trainer (trainer.h) and the embedding-bag trainer
// (bag_trainer.h): the deterministic random generator, the development split, example
// weights, prior log-odds and the per-category threshold choice.
//
// Thread safety: pure functions; Rng is a value owned by its user (not thread-safe).
#ifndef WARDEN_MODERATION_TRAIN_COMMON_H_
#define WARDEN_MODERATION_TRAIN_COMMON_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "moderation/dataset.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

// SplitMix64: small, fast and identical on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float Symmetric() { return static_cast<float>((Next() >> 40) * (1.0 / (1ull << 23))) - 1.0f; }

 private:
  uint64_t state_;
};

using CategoryArray = std::array<float, kNumCategories>;

// What the development split hashes. kText: the row's text (every row on its own; all
// models up to default-v6). kGroup: the row's group when it has one (dataset.h), else its
// text, so that all rows of one HateCheck template or one prompt land on the same side,
// as in the held-out split; without it the development rows share templates with the
// training rows and the first stage is over-confident on them.
enum class DevSplit { kText, kGroup };

// The string the development split hashes for `row` (see DevSplit).
const std::string& DevSplitKey(const Example& row, DevSplit split);

// True for about `dev_percent` % of rows: CRC-32 of DevSplitKey % 100 < dev_percent. The
// split depends on the key only (not on a seed), so every seed uses the same rows.
bool IsDevRow(const Example& row, int dev_percent, DevSplit split);

// Positives of a category weighted by sqrt(negatives / positives), clamped to [1, cap].
CategoryArray PositiveWeights(const std::vector<const Example*>& rows, float cap);

// Rows of a source with n rows weighted (balance_rows / n)^0.5 clamped to
// [0.25, max_weight]; all 1 when balance_rows <= 0. A small source's rows count up to
// max_weight times, on top of the positive weight: with 4, two HarmBench rows that mention
// a grandmother outweighed ninety everyday comments that do, and the word alone scored
// 0.96 on illicit.
// With `group_sources`, n counts every row of the source's group (SourceWeightGroup).
std::vector<float> SourceWeights(const std::vector<const Example*>& rows, int balance_rows,
                                 float max_weight = 4.0f, bool group_sources = false);

// The group a source is counted in when sources are grouped: the part of its name before
// the first '/' ("authored/self_harm" -> "authored"), else the whole name. The files written
// for Warden are one origin split by topic; as separate sources every small file got the
// maximum weight, so a 100-row file counted as much as 1,600 GoEmotions comments.
std::string SourceWeightGroup(const std::string& source);

// Log-odds of the weighted base rate of each category: the bias a model without features
// would learn. Starting there keeps common n-grams from having to absorb the prior, which
// otherwise makes texts with few features score high on rare categories.
CategoryArray PriorLogOdds(const std::vector<const Example*>& rows, const CategoryArray& pos_weight);

// Per-source bias offsets used only during training. A source's label rate (Davidson: 80 %
// of its tweets offensive; Civil Comments: half its rows toxic) is learnt by an offset of
// that source instead of by the n-grams typical of its register (short tweets, questions,
// political vocabulary), which would otherwise carry the source's prior into ordinary text
// ("What is the capital of France?" scored 0.5 on violence). Only (source, category) pairs
// with both positives and negatives get an offset: for a source that is all negative
// (benign chat) or all positive (harmful requests) the contrast with other sources is the
// only signal, and an offset would absorb it. Scoring never uses the offsets.
//
// Thread safety: not thread-safe; owned by one training run.
class SourceOffsets {
 public:
  // `enabled` false: every call is a no-op (the model trains as before).
  SourceOffsets(const std::vector<const Example*>& rows, bool enabled);
  // Adds row `row`'s source offsets to `logit`.
  void AddTo(size_t row, CategoryArray& logit) const;
  // One AdaGrad step of row `row`'s source offsets with the logit gradient `grad`.
  void Update(size_t row, const CategoryArray& grad, float learning_rate);
  int sources() const { return static_cast<int>(offset_.size()); }

 private:
  std::vector<int> source_of_row_;            // index into offset_, -1 when disabled
  std::vector<CategoryArray> offset_, sum_sq_;
  std::vector<std::array<bool, kNumCategories>> mixed_;
};

struct ThresholdOptions {
  double beta = 0.5;           // F-beta maximised
  int min_dev_positives = 8;   // fewer: parent's threshold, else `fallback`
  float fallback = 0.5f;
  float min_threshold = 0.2f;  // chosen thresholds are never below this
  // > 0: each category's threshold is BootstrapMedianThreshold over this many resamples of
  // its development rows (seeded per category), not the plain maximum of F-beta.
  int resamples = 0;
};

// Per-category thresholds chosen on `dev` scored by `score`. A subcategory without enough
// development positives ("self-harm/intent") borrows its parent's threshold ("self-harm")
// when that one was chosen on data.
CategoryArray ChooseThresholds(const std::vector<const Example*>& dev,
                               const std::function<CategoryArray(const std::string&)>& score,
                               const ThresholdOptions& options);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_TRAIN_COMMON_H_
