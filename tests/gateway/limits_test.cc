#include "gateway/limits.h"

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

TEST(TokenBucket, RefillsAtItsRateAndCapsAtOneMinute) {
  TokenBucket bucket(60);  // One per second.
  const absl::Time start = absl::Now();
  EXPECT_TRUE(bucket.TryTake(60, start));
  EXPECT_FALSE(bucket.TryTake(1, start));
  EXPECT_TRUE(bucket.TryTake(1, start + absl::Seconds(1.01)));
  EXPECT_FALSE(bucket.TryTake(1, start + absl::Seconds(1.02)));
  EXPECT_FALSE(bucket.TryTake(61, start + absl::Hours(1)));  // Never more than a minute's worth.
}

TEST(TokenBucket, ChargeCreatesDebtThatBlocksLaterTakes) {
  TokenBucket bucket(60);
  const absl::Time start = absl::Now();
  bucket.Charge(90, start);
  EXPECT_FALSE(bucket.TryTake(1, start + absl::Seconds(29)));
  EXPECT_TRUE(bucket.TryTake(1, start + absl::Seconds(31.5)));
}

TEST(TokenBucket, NegativeChargeGivesBackAtMostAMinutesWorth) {
  TokenBucket bucket(60);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(bucket.TryTake(50, start));
  bucket.Charge(-30, start);  // the request used 30 fewer than it was admitted at
  EXPECT_TRUE(bucket.TryTake(40, start));
  EXPECT_FALSE(bucket.TryTake(1, start));
  bucket.Charge(-1000, start);
  EXPECT_FALSE(bucket.TryTake(61, start));  // capped at one minute's worth
  EXPECT_TRUE(bucket.TryTake(60, start));
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket(0);
  EXPECT_TRUE(bucket.TryTake(1e9, absl::Now()));
}

v1::ServerConfig Config(uint32_t rpm, uint32_t streams, uint32_t queue) {
  v1::ServerConfig config;
  config.set_max_queued_requests(queue);
  auto* app = config.add_apps();
  app->set_id("a");
  app->mutable_limits()->set_requests_per_minute(rpm);
  app->mutable_limits()->set_max_concurrent_streams(streams);
  app->mutable_limits()->set_tokens_per_minute(1000);
  return config;
}

// tokens_per_minute 1000: a request admitted at 600 that used 900 leaves 100; one that
// used 200 leaves 800.
TEST(Limiter, SettleTokensChargesTheUseNotTheEstimate) {
  {
    Limiter limiter(Config(0, 0, 100));
    ASSERT_TRUE(limiter.Admit("a", false, 600).ok());
    limiter.SettleTokens("a", 600, 900);
    EXPECT_EQ(limiter.Admit("a", false, 150).status().code(), absl::StatusCode::kResourceExhausted);
  }
  {
    Limiter limiter(Config(0, 0, 100));
    ASSERT_TRUE(limiter.Admit("a", false, 600).ok());
    limiter.SettleTokens("a", 600, 200);
    EXPECT_TRUE(limiter.Admit("a", false, 750).ok());
  }
}

TEST(Limiter, NamesTheRequestsPerMinuteLimit) {
  Limiter limiter(Config(2, 0, 100));
  EXPECT_TRUE(limiter.Admit("a", false, 1).ok());
  EXPECT_TRUE(limiter.Admit("a", false, 1).ok());
  const auto third = limiter.Admit("a", false, 1);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("requests_per_minute"), absl::string_view::npos);
}

// requests_per_minute 2, tokens_per_minute 1000: requests refused for their tokens use no
// request of the minute.
TEST(Limiter, RequestRefusedForTokensDoesNotUseARequestOfTheMinute) {
  Limiter limiter(Config(2, 0, 100));
  ASSERT_TRUE(limiter.Admit("a", false, 900).ok());
  for (int i = 0; i < 5; ++i) {
    const auto refused = limiter.Admit("a", false, 500);
    EXPECT_NE(refused.status().message().find("tokens_per_minute"), absl::string_view::npos) << refused.status();
  }
  EXPECT_TRUE(limiter.Admit("a", false, 50).ok());  // The minute's second request.
  EXPECT_NE(limiter.Admit("a", false, 1).status().message().find("requests_per_minute"), absl::string_view::npos);
}

TEST(Limiter, StreamSlotsAreReturnedWhenAdmissionEnds) {
  Limiter limiter(Config(0, 1, 100));
  {
    auto first = limiter.Admit("a", true, 1);
    ASSERT_TRUE(first.ok());
    const auto second = limiter.Admit("a", true, 1);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(second.status().message().find("max_concurrent_streams"), absl::string_view::npos);
  }
  EXPECT_TRUE(limiter.Admit("a", true, 1).ok());
  EXPECT_EQ(limiter.in_flight(), 0);
}

// Unary calls take the app's request slots too: one app cannot fill the server's queue.
TEST(Limiter, RequestSlotsBoundEveryKindOfCallAndAreReturned) {
  v1::ServerConfig config = Config(0, 0, 100);
  config.mutable_apps(0)->mutable_limits()->set_max_concurrent_requests(2);
  Limiter limiter(config);
  {
    auto unary = limiter.Admit("a", false, 1);
    auto stream = limiter.Admit("a", true, 1);
    ASSERT_TRUE(unary.ok() && stream.ok());
    const auto third = limiter.Admit("a", false, 1);
    EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(third.status().message().find("max_concurrent_requests (2)"), absl::string_view::npos)
        << third.status();
    EXPECT_EQ(limiter.in_flight(), 2);  // The refused one gave its queue slot back.
  }
  EXPECT_EQ(limiter.in_flight(), 0);
  auto again = limiter.Admit("a", false, 1);
  auto and_again = limiter.Admit("a", false, 1);
  EXPECT_TRUE(again.ok() && and_again.ok());
}

TEST(Limiter, GlobalQueueBoundAndTokenBudget) {
  Limiter limiter(Config(0, 0, 1));
  auto held = limiter.Admit("a", false, 1);
  ASSERT_TRUE(held.ok());
  const auto busy = limiter.Admit("a", false, 1);
  EXPECT_NE(busy.status().message().find("max_queued_requests"), absl::string_view::npos);
  *held = Admission();
  const auto too_many_tokens = limiter.Admit("a", false, 5000);
  EXPECT_NE(too_many_tokens.status().message().find("tokens_per_minute"), absl::string_view::npos);
  EXPECT_EQ(limiter.Admit("unknown", false, 1).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Limiter, RequestLargerThanAMinutesTokenBudgetIsRefusedAsSuchWithoutUsingTheBudget) {
  Limiter limiter(Config(0, 0, 100));  // tokens_per_minute 1000
  const auto huge = limiter.Admit("a", false, 1001);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("exceeded by this request alone"), absl::string_view::npos)
      << huge.status();
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_TRUE(limiter.Admit("a", false, 1000).ok());  // The whole budget is still there.
}

TEST(MaxReceiveBytes, IsTheLargestAppLimitPlusSlackAndNeverOver64MiB) {
  v1::ServerConfig config;
  EXPECT_EQ(MaxReceiveBytes(config), (1 << 20) + (1 << 20));  // The default limit, 1 MiB.
  config.add_apps()->mutable_limits()->set_max_request_bytes(4096);
  config.add_apps()->mutable_limits()->set_max_request_bytes(3 << 20);
  EXPECT_EQ(MaxReceiveBytes(config), (3 << 20) + (1 << 20));
  config.add_apps()->mutable_limits()->set_max_request_bytes(4000000000u);
  EXPECT_EQ(MaxReceiveBytes(config), 64 << 20);
}

}  // namespace
}  // namespace warden::gateway
