// Prometheus metrics of the gateway. Metric names are part of the API: they are listed,
// sorted, in kGatewayMetricNames and nowhere else. Thread-safe.
#ifndef WARDEN_GATEWAY_METRICS_H_
#define WARDEN_GATEWAY_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include <mutex>

namespace warden::gateway {

// Every metric the gateway exports (sorted). Labels are given in the comments.
inline constexpr std::array<const char*, 18> kGatewayMetricNames = {
    "warden_audit_failures_total",          // (none)
    "warden_check_failures_total",          // stage, outcome = fail_closed | fail_open (not: stopped as the client left)
    "warden_decisions_total",               // direction, action: one per checked direction of a call (a
                                            //   Moderate call: its texts merged, strictest action)
    "warden_fail_open_passes_total",        // app
    "warden_flagged_categories_total",      // direction, category
    "warden_holdback_wait_seconds",         // histogram
    "warden_kv_preemptions_total",          // (none): generations paused for KV memory, recomputed
    "warden_model_format_errors_total",     // (none): model output that broke harmony
    "warden_process_huge_page_bytes",       // gauge: anonymous memory on 2 MB pages, at each scrape
    "warden_process_resident_bytes",        // gauge: resident memory, at each scrape
    "warden_queue_depth",                   // gauge: generations waiting for the running batch, at each scrape
    "warden_request_duration_seconds",      // histogram; rpc
    "warden_requests_total",                // rpc, app, code
    "warden_rule_hits_total",               // rule: each text's hits (a Moderate call of 3 texts: up to 3)
    "warden_stage_duration_seconds",        // histogram; stage
    "warden_stream_write_stalls_total",     // app: streams cancelled because the client stopped reading
    "warden_time_to_first_token_seconds",   // histogram
    "warden_tokens_total",                  // app, kind = prompt | completion
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Adds `value` to a counter. `name` must be one of kGatewayMetricNames.
  void Increment(const std::string& name, const Labels& labels, double value = 1);
  void SetGauge(const std::string& name, const Labels& labels, double value);
  // Records one observation (seconds) in a histogram with fixed latency buckets.
  void Observe(const std::string& name, const Labels& labels, double seconds);

  // The Prometheus text exposition format (version 0.0.4).
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // Cumulative at render time; per-bucket here.
    uint64_t count = 0;
    double sum = 0;
  };
  enum class Kind { kCounter, kGauge, kHistogram };
  static std::string Key(const Labels& labels);

  mutable std::mutex mu_;  // std::mutex: see event_queue.h (ThreadSanitizer).
  std::map<std::string, Kind> kinds_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, double>> values_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, Histogram>> histograms_ ABSL_GUARDED_BY(mu_);
};

// Upper bounds (seconds) of the histogram buckets.
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                           0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_METRICS_H_
