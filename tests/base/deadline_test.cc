// Deadline: a time, optionally cancelled by its caller; the error says which.
#include "base/deadline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

namespace warden {
namespace {

TEST(Deadline, APlainTimeIsReachedOnlyWhenItHasPassed) {
  EXPECT_FALSE(Deadline().Reached());
  EXPECT_FALSE(Deadline(absl::Now() + absl::Hours(1)).Reached());
  const Deadline past(absl::Now() - absl::Seconds(1));
  EXPECT_TRUE(past.Reached());
  EXPECT_FALSE(past.cancelled());
  EXPECT_EQ(past.ReachedError("work").code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(Deadline, CancellationReachesItBeforeItsTime) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  const Deadline deadline(absl::InfiniteFuture(), [flag] { return flag->load(); });
  EXPECT_FALSE(deadline.Reached());
  *flag = true;
  EXPECT_TRUE(deadline.Reached());
  EXPECT_EQ(deadline.ReachedError("work").code(), absl::StatusCode::kCancelled);
}

TEST(Deadline, AtMostKeepsTheCancellationAndTheEarlierTime) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  const absl::Time soon = absl::Now() + absl::Minutes(1);
  const Deadline deadline(absl::InfiniteFuture(), [flag] { return flag->load(); });
  const Deadline bounded = deadline.AtMost(soon);
  EXPECT_EQ(bounded.time(), soon);
  EXPECT_EQ(bounded.AtMost(absl::InfiniteFuture()).time(), soon);
  *flag = true;
  EXPECT_TRUE(bounded.Reached());
}

TEST(Deadline, EarliestIsReachedWhenEitherIs) {
  auto a_flag = std::make_shared<std::atomic<bool>>(false);
  auto b_flag = std::make_shared<std::atomic<bool>>(false);
  const absl::Time early = absl::Now() + absl::Minutes(1);
  const absl::Time late = absl::Now() + absl::Minutes(2);
  const Deadline a(late, [a_flag] { return a_flag->load(); });
  const Deadline b(early, [b_flag] { return b_flag->load(); });
  EXPECT_EQ(Deadline::Earliest(a, b).time(), early);
  EXPECT_EQ(Deadline::Earliest(a, Deadline(early)).time(), early);
  EXPECT_EQ(Deadline::Earliest(Deadline(early), a).time(), early);
  EXPECT_FALSE(Deadline::Earliest(a, b).Reached());
  *b_flag = true;
  EXPECT_TRUE(Deadline::Earliest(a, b).Reached());
  EXPECT_TRUE(Deadline::Earliest(Deadline(late), b).Reached());
  *b_flag = false;
  *a_flag = true;
  EXPECT_TRUE(Deadline::Earliest(a, b).Reached());
  EXPECT_TRUE(Deadline::Earliest(a, Deadline()).Reached());
}

}  // namespace
}  // namespace warden
