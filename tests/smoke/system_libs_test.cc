// Proves the system libraries resolve through the @system repository rule.
#include <dnnl.hpp>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "absl/status/statusor.h"

TEST(SystemLibs, Re2AndOneDnnAndAbseilLinkAndRun) {
  EXPECT_TRUE(RE2::FullMatch("abc", "a.c"));
  absl::StatusOr<int> value = 3;
  EXPECT_EQ(*value, 3);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  EXPECT_EQ(engine.get_kind(), dnnl::engine::kind::cpu);
}
