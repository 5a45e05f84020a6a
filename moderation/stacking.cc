#include "moderation/stacking.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace warden::moderation {

constexpr int C = kNumCategories;

absl::Status ValidateStackingLayer(const StackingLayer& layer) {
  const auto bad = [](float v) { return !std::isfinite(v) || std::fabs(v) > kStackingMaxParameter; };
  for (int c = 0; c < C; ++c) {
    if (bad(layer.bias[c])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stacking bias of ", std::string(CategoryName(kCategories[c])), " is ", layer.bias[c]));
    }
    for (int j = 0; j < C; ++j) {
      if (bad(layer.weight[c * C + j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("stacking weight of ", std::string(CategoryName(kCategories[c])), " on ",
                         std::string(CategoryName(kCategories[j])), " is ", layer.weight[c * C + j]));
      }
    }
  }
  return absl::OkStatus();
}

float StackingLogit(float probability) {
  // NaN-safe: a NaN probability becomes the lower clamp rather than spreading.
  const double p = std::isnan(probability) ? 0.0 : static_cast<double>(probability);
  const double clamped = std::clamp(p, 1e-6, 1.0 - 1e-6);
  const double z = std::log(clamped / (1.0 - clamped));
  return std::clamp(static_cast<float>(z), -kStackingMaxLogit, kStackingMaxLogit);
}

void ApplyStacking(const StackingLayer& layer, std::array<float, kNumCategories>& scores) {
  std::array<float, C> z;
  for (int j = 0; j < C; ++j) z[j] = StackingLogit(scores[j]);
  for (int c = 0; c < C; ++c) {
    float delta = layer.bias[c];
    for (int j = 0; j < C; ++j) delta += layer.weight[c * C + j] * z[j];
    // Exactly zero: keep the first-stage probability bit for bit (see the header).
    if (delta == 0.0f) continue;
    scores[c] = 1.0f / (1.0f + std::exp(-(z[c] + delta)));
  }
}

}  // namespace warden::moderation
