#include "model/weight_options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::model {

absl::StatusOr<WeightMode> ParseWeightMode(absl::string_view name) {
  if (name.empty() || name == "exact") return WeightMode::kExact;
  if (name == "fast") return WeightMode::kFast;
  return absl::InvalidArgumentError(absl::StrCat("weight mode \"", name, "\" must be \"exact\" or \"fast\""));
}

absl::StatusOr<Residency> ParseResidency(absl::string_view name) {
  if (name.empty() || name == "resident") return Residency::kResident;
  if (name == "mapped") return Residency::kMapped;
  return absl::InvalidArgumentError(
      absl::StrCat("weight memory \"", name, "\" must be \"resident\" or \"mapped\""));
}

const char* WeightModeName(WeightMode mode) { return mode == WeightMode::kFast ? "fast" : "exact"; }

const char* ResidencyName(Residency residency) { return residency == Residency::kMapped ? "mapped" : "resident"; }

}  // namespace warden::model
