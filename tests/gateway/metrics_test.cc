#include "gateway/metrics.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

TEST(Metrics, NameListIsSortedAndUnique) {
  std::vector<std::string> names(kGatewayMetricNames.begin(), kGatewayMetricNames.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(Metrics, RendersCountersGaugesAndCumulativeHistograms) {
  Metrics metrics;
  metrics.Increment("warden_requests_total", {{"rpc", "Moderate"}, {"app", "a\"b"}});
  metrics.Increment("warden_requests_total", {{"rpc", "Moderate"}, {"app", "a\"b"}}, 2);
  metrics.SetGauge("warden_queue_depth", {}, 7);
  metrics.Observe("warden_request_duration_seconds", {{"rpc", "Moderate"}}, 0.003);
  metrics.Observe("warden_request_duration_seconds", {{"rpc", "Moderate"}}, 100);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE warden_requests_total counter\nwarden_requests_total{rpc=\"Moderate\",app=\"a\\\"b\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("warden_queue_depth 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("warden_request_duration_seconds_bucket{rpc=\"Moderate\",le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("warden_request_duration_seconds_bucket{rpc=\"Moderate\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("warden_request_duration_seconds_bucket{rpc=\"Moderate\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("warden_request_duration_seconds_count{rpc=\"Moderate\"} 2\n"), std::string::npos);
}

TEST(Metrics, LargeAndFractionalValuesKeepEveryDigit) {
  Metrics metrics;
  metrics.Increment("warden_tokens_total", {{"app", "a"}, {"kind", "prompt"}}, 1234567);
  metrics.SetGauge("warden_process_resident_bytes", {}, 13885218816.0);
  metrics.Observe("warden_request_duration_seconds", {}, 0.003);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("warden_tokens_total{app=\"a\",kind=\"prompt\"} 1234567\n"), std::string::npos) << text;
  EXPECT_NE(text.find("warden_process_resident_bytes 13885218816\n"), std::string::npos) << text;
  EXPECT_NE(text.find("warden_request_duration_seconds_sum 0.003\n"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) metrics.Increment("warden_rule_hits_total", {{"rule", "r"}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_NE(metrics.RenderPrometheus().find("warden_rule_hits_total{rule=\"r\"} 4000\n"), std::string::npos);
}

}  // namespace
}  // namespace warden::gateway
