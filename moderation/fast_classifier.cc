#include "moderation/fast_classifier.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/features.h"
#include "moderation/model_file.h"
#include "moderation/text_fold.h"

namespace warden::moderation {

namespace {

absl::Status CheckFoldVersion(uint32_t version, const std::string& id) {
  if (version >= kOldestTextFoldVersion && version <= kTextFoldVersion) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("model ", id, " was trained with text folding version ", version,
                                                 ", this build folds versions ", kOldestTextFoldVersion, " to ",
                                                 kTextFoldVersion));
}

}  // namespace

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::Load(const std::string& path) {
  ASSIGN_OR_RETURN(const ModelFileContents contents, ReadModelFile(path));
  return FromContents(contents);
}

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::FromContents(
    const ModelFileContents& contents) {
  if (contents.kind == ModelKind::kLinear) return FromModel(contents.linear);
  if (contents.kind == ModelKind::kEmbeddingBag) return FromBagModel(contents.bag);
  ASSIGN_OR_RETURN(std::unique_ptr<FastClassifier> out, FromBagModel(contents.bag));
  RETURN_IF_ERROR(ValidateFastModel(contents.linear));
  RETURN_IF_ERROR(CheckFoldVersion(contents.linear.text_fold_version, contents.linear.id));
  if (contents.linear.text_fold_version != contents.bag.text_fold_version) {
    return absl::InvalidArgumentError(absl::StrCat("ensemble ", contents.ensemble_id, ": its members were trained with "
                                                   "text folding versions ", contents.linear.text_fold_version, " and ",
                                                   contents.bag.text_fold_version));
  }
  out->InitLinear(contents.linear);
  out->id_ = contents.ensemble_id;
  out->threshold_ = contents.ensemble_threshold;
  out->ensemble_hierarchy_ = contents.ensemble_hierarchy;
  if (contents.ensemble_stacking.has_value()) {
    RETURN_IF_ERROR(ValidateStackingLayer(*contents.ensemble_stacking));
    out->stacking_ = contents.ensemble_stacking;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::FromBagModel(
    const BagModel& model) {
  RETURN_IF_ERROR(CheckFoldVersion(model.text_fold_version, model.id));
  ASSIGN_OR_RETURN(BagScorer scorer, BagScorer::Create(model));
  std::unique_ptr<FastClassifier> out(new FastClassifier());
  out->features_ = model.features;
  out->id_ = model.id;
  out->threshold_ = model.threshold;
  out->bag_ = std::make_unique<const BagScorer>(std::move(scorer));
  out->fold_version_ = model.text_fold_version;
  return out;
}

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::FromModel(
    const FastModel& model) {
  RETURN_IF_ERROR(ValidateFastModel(model));
  RETURN_IF_ERROR(CheckFoldVersion(model.text_fold_version, model.id));
  std::unique_ptr<FastClassifier> out(new FastClassifier());
  out->InitLinear(model);
  out->id_ = model.id;
  out->threshold_ = model.threshold;
  out->fold_version_ = model.text_fold_version;
  return out;
}

void FastClassifier::InitLinear(const FastModel& model) {
  linear_ = true;
  features_ = model.features;
  bias_ = model.bias;
  scale_ = model.scale;
  const size_t buckets = size_t{1} << model.features.buckets_log2;
  weights_.assign(buckets * kStride, 0);
  for (size_t b = 0; b < buckets; ++b) {
    for (int c = 0; c < kNumCategories; ++c) {
      weights_[b * kStride + c] = model.weights[b * kNumCategories + c];
    }
  }
}

namespace {

// Feature lists take ~3 entries per text byte before deduplication; a thread keeps the
// capacity for texts up to ~350 KB between calls and gives back what a larger one took
// (a 1 MiB request, 12 MB; at the 63 MiB request limit, 750 MB), so every gRPC and engine
// thread that once scored a large text does not hold its peak for good.
constexpr size_t kKeptFeatureCapacity = size_t{1} << 20;

struct ScratchFeatures {
  std::vector<uint32_t> buckets;
  void Trim() {
    if (buckets.capacity() > kKeptFeatureCapacity) std::vector<uint32_t>().swap(buckets);
  }
};

}  // namespace

CategoryScores FastClassifier::Score(std::string_view text) const {
  thread_local ScratchFeatures scratch;
  thread_local ScratchFeatures bag_scratch;
  struct TrimOnReturn {
    ~TrimOnReturn() {
      scratch.Trim();
      bag_scratch.Trim();
    }
  } trim;
  std::vector<uint32_t>& features = scratch.buckets;
  const std::string folded = FoldText(text, fold_version_);
  ExtractFeatures(folded, features_, &features);
  if (!linear_) {
    CategoryScores out;
    out.scores = bag_->Scores(features);
    return out;
  }
  CategoryScores out = ScoreLinear(features);
  if (bag_ == nullptr) return out;
  // Ensemble: the bag may hash into another number of buckets.
  const FeatureConfig& bag_features = bag_->model().features;
  const bool same = bag_features.buckets_log2 == features_.buckets_log2 &&
                    bag_features.char_min == features_.char_min &&
                    bag_features.char_max == features_.char_max &&
                    bag_features.word_bigrams == features_.word_bigrams &&
                    bag_features.repeats == features_.repeats;
  std::vector<uint32_t>& bag_buckets = bag_scratch.buckets;
  if (!same) ExtractFeatures(folded, bag_features, &bag_buckets);
  const std::array<float, kNumCategories> bag = bag_->Scores(same ? features : bag_buckets);
  for (int c = 0; c < kNumCategories; ++c) out.scores[c] = 0.5f * (out.scores[c] + bag[c]);
  if (stacking_.has_value()) ApplyStacking(*stacking_, out.scores);
  ApplyHierarchy(ensemble_hierarchy_, out.scores);
  return out;
}

CategoryScores FastClassifier::ScoreLinear(const std::vector<uint32_t>& features) const {
  int32_t acc[kStride] = {};
  const int8_t* weights = weights_.data();
  constexpr size_t kPrefetchAhead = 16;  // rows are scattered over a table larger than L2
  for (size_t i = 0; i < features.size(); ++i) {
    if (i + kPrefetchAhead < features.size()) {
      __builtin_prefetch(weights + static_cast<size_t>(features[i + kPrefetchAhead]) * kStride);
    }
    const int8_t* row = weights + static_cast<size_t>(features[i]) * kStride;
    for (int c = 0; c < kStride; ++c) acc[c] += row[c];
  }
  const float norm = LengthNorm(features_, features.size());
  CategoryScores out;
  for (int c = 0; c < kNumCategories; ++c) {
    const float logit = bias_[c] + scale_[c] * norm * static_cast<float>(acc[c]);
    out.scores[c] = 1.0f / (1.0f + std::exp(-logit));
  }
  return out;
}

absl::StatusOr<std::vector<CategoryScores>> FastClassifier::ScoreBatch(
    absl::Span<const std::string_view> texts) const {
  std::vector<CategoryScores> out;
  out.reserve(texts.size());
  for (const std::string_view text : texts) out.push_back(Score(text));
  return out;
}

std::string FastClassifier::name() const { return absl::StrCat("fast:", id_); }

}  // namespace warden::moderation
