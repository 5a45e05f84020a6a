// The one parser of the weight options' names (gateway config, engine runner, oss bench).
#include "model/weight_options.h"

#include <gtest/gtest.h>

namespace warden::model {
namespace {

TEST(WeightOptions, ParsesWeightModeNamesAndEmptyAsExact) {
  EXPECT_EQ(*ParseWeightMode("exact"), WeightMode::kExact);
  EXPECT_EQ(*ParseWeightMode("fast"), WeightMode::kFast);
  EXPECT_EQ(*ParseWeightMode(""), WeightMode::kExact);
}

TEST(WeightOptions, ParsesResidencyNamesAndEmptyAsResident) {
  EXPECT_EQ(*ParseResidency("resident"), Residency::kResident);
  EXPECT_EQ(*ParseResidency("mapped"), Residency::kMapped);
  EXPECT_EQ(*ParseResidency(""), Residency::kResident);
}

TEST(WeightOptions, NamesParseBackToTheirValues) {
  for (WeightMode mode : {WeightMode::kExact, WeightMode::kFast}) EXPECT_EQ(*ParseWeightMode(WeightModeName(mode)), mode);
  for (Residency residency : {Residency::kMapped, Residency::kResident}) {
    EXPECT_EQ(*ParseResidency(ResidencyName(residency)), residency);
  }
}

TEST(WeightOptions, RejectsOtherNamesNamingTheAcceptedOnes) {
  for (const char* name : {"turbo", "Fast", "exact ", "int8"}) {
    const auto mode = ParseWeightMode(name);
    ASSERT_FALSE(mode.ok()) << name;
    EXPECT_EQ(mode.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(mode.status().message().find("\"exact\" or \"fast\""), absl::string_view::npos);
  }
  for (const char* name : {"swap", "Mapped", "mmap", "resident\n"}) {
    const auto memory = ParseResidency(name);
    ASSERT_FALSE(memory.ok()) << name;
    EXPECT_EQ(memory.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(memory.status().message().find("\"resident\" or \"mapped\""), absl::string_view::npos);
  }
}

}  // namespace
}  // namespace warden::model
