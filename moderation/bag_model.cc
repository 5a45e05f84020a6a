#include "moderation/bag_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

absl::Status CheckSize(size_t actual, size_t expected, std::string_view field) {
  if (actual == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("bag model ", std::string(field), " has ", actual,
                                                 " entries, expected ", expected));
}

absl::Status CheckFinite(const float* values, size_t n, std::string_view field) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bag model ", std::string(field), "[", i, "] is not finite"));
    }
    // Finite but huge values overflow the sums to inf and then NaN (0 * inf): bounded, every
    // sum of a scoring stays finite whatever the text.
    if (std::fabs(values[i]) > kBagMaxParameter) {
      return absl::InvalidArgumentError(absl::StrCat("bag model ", std::string(field), "[", i, "] is ", values[i],
                                                     ", beyond the +-", kBagMaxParameter, " a trained model stays in"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int ParentCategoryIndex(int c) {
  if (c < 0 || c >= kNumCategories) return -1;
  const std::string_view name = CategoryName(kCategories[c]);
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) return -1;
  const absl::StatusOr<warden::v1::Category> parent = CategoryFromName(name.substr(0, slash));
  return parent.ok() ? CategoryIndex(*parent) : -1;
}

void ApplyHierarchy(Hierarchy mode, std::array<float, kNumCategories>& scores) {
  if (mode != Hierarchy::kChildAtMostParent) return;
  for (int c = 0; c < kNumCategories; ++c) {
    const int parent = ParentCategoryIndex(c);
    if (parent >= 0) scores[c] = std::min(scores[c], scores[parent]);
  }
}

absl::Status ValidateBagModel(const BagModel& model) {
  RETURN_IF_ERROR(ValidateFeatureConfig(model.features));
  if (model.dim < 8 || model.dim > 256 || model.dim % 8 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bag model dim is ", model.dim, ", expected a multiple of 8 in [8, 256]"));
  }
  if (model.hidden > 512) {
    return absl::InvalidArgumentError(
        absl::StrCat("bag model hidden is ", model.hidden, ", expected at most 512"));
  }
  if (model.hierarchy != Hierarchy::kNone && model.hierarchy != Hierarchy::kChildAtMostParent) {
    return absl::InvalidArgumentError(absl::StrCat("bag model hierarchy mode ",
                                                   static_cast<uint32_t>(model.hierarchy),
                                                   " is unknown"));
  }
  const size_t buckets = size_t{1} << model.features.buckets_log2;
  RETURN_IF_ERROR(CheckSize(model.embedding_scale.size(), model.dim, "embedding_scale"));
  RETURN_IF_ERROR(CheckSize(model.embeddings.size(), buckets * model.dim, "embeddings"));
  RETURN_IF_ERROR(CheckSize(model.hidden_weights.size(), size_t{model.hidden} * model.dim,
                            "hidden_weights"));
  RETURN_IF_ERROR(CheckSize(model.hidden_bias.size(), model.hidden, "hidden_bias"));
  RETURN_IF_ERROR(CheckSize(model.out_weights.size(), size_t{HeadInputs(model)} * kNumCategories,
                            "out_weights"));
  RETURN_IF_ERROR(CheckFinite(model.embedding_scale.data(), model.embedding_scale.size(),
                              "embedding_scale"));
  RETURN_IF_ERROR(CheckFinite(model.hidden_weights.data(), model.hidden_weights.size(),
                              "hidden_weights"));
  RETURN_IF_ERROR(CheckFinite(model.hidden_bias.data(), model.hidden_bias.size(), "hidden_bias"));
  RETURN_IF_ERROR(CheckFinite(model.out_weights.data(), model.out_weights.size(), "out_weights"));
  RETURN_IF_ERROR(CheckFinite(model.out_bias.data(), model.out_bias.size(), "out_bias"));
  for (int c = 0; c < kNumCategories; ++c) {
    if (!(model.threshold[c] > 0.0f && model.threshold[c] <= 1.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bag model threshold of ", std::string(CategoryName(kCategories[c])),
                       " is ", model.threshold[c], ", expected (0, 1]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace warden::moderation
