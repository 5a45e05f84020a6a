#include "gateway/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace warden::gateway {
namespace {

// A sample value as Prometheus reads it: the shortest text that round-trips the double
// (absl's six significant digits turned a counter of 1,234,567 into 1.23457e+06, so rates
// over large counters moved in steps); NaN and infinities in Prometheus' spelling.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

}  // namespace

std::string Metrics::Key(const Labels& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (!key.empty()) key += ",";
    const std::string escaped = absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
    absl::StrAppend(&key, name, "=\"", escaped, "\"");
  }
  return key;
}

void Metrics::Increment(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_[name] = Kind::kCounter;
  values_[name][Key(labels)] += value;
}

void Metrics::SetGauge(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_[name] = Kind::kGauge;
  values_[name][Key(labels)] = value;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_[name] = Kind::kHistogram;
  Histogram& histogram = histograms_[name][Key(labels)];
  if (histogram.buckets.empty()) histogram.buckets.assign(kLatencyBuckets.size(), 0);
  const auto bucket = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds);
  if (bucket != kLatencyBuckets.end()) ++histogram.buckets[bucket - kLatencyBuckets.begin()];
  ++histogram.count;
  histogram.sum += seconds;
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto with = [](const std::string& key, const std::string& extra) {
    if (key.empty() && extra.empty()) return std::string();
    if (key.empty()) return absl::StrCat("{", extra, "}");
    if (extra.empty()) return absl::StrCat("{", key, "}");
    return absl::StrCat("{", key, ",", extra, "}");
  };
  for (const auto& [name, kind] : kinds_) {
    if (kind == Kind::kHistogram) {
      absl::StrAppend(&out, "# TYPE ", name, " histogram\n");
      for (const auto& [key, histogram] : histograms_.at(name)) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
          cumulative += histogram.buckets[i];
          absl::StrAppend(&out, name, "_bucket", with(key, absl::StrCat("le=\"", kLatencyBuckets[i], "\"")), " ",
                          cumulative, "\n");
        }
        absl::StrAppend(&out, name, "_bucket", with(key, "le=\"+Inf\""), " ", histogram.count, "\n");
        absl::StrAppend(&out, name, "_sum", with(key, ""), " ", FormatValue(histogram.sum), "\n");
        absl::StrAppend(&out, name, "_count", with(key, ""), " ", histogram.count, "\n");
      }
      continue;
    }
    absl::StrAppend(&out, "# TYPE ", name, kind == Kind::kCounter ? " counter\n" : " gauge\n");
    for (const auto& [key, value] : values_.at(name)) {
      absl::StrAppend(&out, name, with(key, ""), " ", FormatValue(value), "\n");
    }
  }
  return out;
}

}  // namespace warden::gateway
