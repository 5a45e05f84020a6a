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

// gRPC's IsCancelled() also turns true when the call's deadline passes: a passed time says
// DEADLINE_EXCEEDED even when the cancellation test says true.
TEST(Deadline, APassedTimeIsDeadlineExceededEvenWhenAlsoCancelled) {
  const Deadline both(absl::Now() - absl::Seconds(1), [] { return true; });
  EXPECT_TRUE(both.Reached());
  const absl::Status status = both.ReachedError("work");
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "work: its time budget or deadline passed");
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

TEST(Deadline, EarliestIsReachedWhenAnyIs) {
  auto a_flag = std::make_shared<std::atomic<bool>>(false);
  auto b_flag = std::make_shared<std::atomic<bool>>(false);
  const absl::Time early = absl::Now() + absl::Minutes(1);
  const absl::Time late = absl::Now() + absl::Minutes(2);
  const Deadline a(late, [a_flag] { return a_flag->load(); });
  const Deadline b(early, [b_flag] { return b_flag->load(); });
  EXPECT_EQ(Deadline::Earliest({a, b}).time(), early);
  EXPECT_EQ(Deadline::Earliest({a, Deadline(early), Deadline()}).time(), early);
  EXPECT_EQ(Deadline::Earliest({}).time(), absl::InfiniteFuture());
  EXPECT_FALSE(Deadline::Earliest({}).Reached());
  EXPECT_FALSE(Deadline::Earliest({a, b}).Reached());
  const Deadline both = Deadline::Earliest({a, b, Deadline(late)});
  *b_flag = true;
  EXPECT_TRUE(both.Reached());
  EXPECT_TRUE(Deadline::Earliest({Deadline(late), b}).Reached());
  *b_flag = false;
  *a_flag = true;
  EXPECT_TRUE(both.Reached());
  EXPECT_TRUE(Deadline::Earliest({a}).Reached());
  EXPECT_TRUE(Deadline::Earliest({Deadline(absl::InfinitePast())}).Reached());
}

}  // namespace
}  // namespace warden
