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
  if (version == kTextFoldVersion) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("model ", id,
                                                 " was trained with text folding version ",
                                                 version, ", this build has ", kTextFoldVersion));
}

}  // namespace

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::Load(const std::string& path) {
  ASSIGN_OR_RETURN(const ModelFileContents contents, ReadModelFile(path));
  if (contents.kind == ModelKind::kEmbeddingBag) return FromBagModel(contents.bag);
  return FromModel(contents.linear);
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
  return out;
}

absl::StatusOr<std::unique_ptr<FastClassifier>> FastClassifier::FromModel(
    const FastModel& model) {
  RETURN_IF_ERROR(ValidateFastModel(model));
  RETURN_IF_ERROR(CheckFoldVersion(model.text_fold_version, model.id));
  std::unique_ptr<FastClassifier> out(new FastClassifier());
  out->features_ = model.features;
  out->id_ = model.id;
  out->bias_ = model.bias;
  out->scale_ = model.scale;
  out->threshold_ = model.threshold;
  const size_t buckets = size_t{1} << model.features.buckets_log2;
  out->weights_.assign(buckets * kStride, 0);
  for (size_t b = 0; b < buckets; ++b) {
    for (int c = 0; c < kNumCategories; ++c) {
      out->weights_[b * kStride + c] = model.weights[b * kNumCategories + c];
    }
  }
  return out;
}

CategoryScores FastClassifier::Score(std::string_view text) const {
  thread_local std::vector<uint32_t> features;
  ExtractFeatures(FoldText(text), features_, &features);
  if (bag_ != nullptr) {
    CategoryScores out;
    out.scores = bag_->Scores(features);
    return out;
  }
  return ScoreLinear(features);
}

CategoryScores FastClassifier::ScoreLinear(const std::vector<uint32_t>& features) const {
  int32_t acc[kStride] = {};
  const int8_t* weights = weights_.data();
  for (const uint32_t f : features) {
    const int8_t* row = weights + static_cast<size_t>(f) * kStride;
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
