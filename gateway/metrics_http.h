// Serves GET /metrics (Prometheus text) on its own HTTP port and thread.
#ifndef WARDEN_GATEWAY_METRICS_HTTP_H_
#define WARDEN_GATEWAY_METRICS_HTTP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "gateway/metrics.h"

namespace httplib {
class Server;
}

namespace warden::gateway {

// Owns the HTTP server thread; stops it on destruction. `metrics` must outlive it. Each
// scrape first records the process's memory gauges (memory_report.h), then renders.
class MetricsHttpServer {
 public:
  // `address` is HOST:PORT (port 0 picks a free one). `before_render` (may be empty) runs
  // at each scrape, on the listener's thread, to set gauges read at that moment.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address, Metrics* metrics,
                                                                  std::function<void()> before_render = {});
  ~MetricsHttpServer();
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_ended_{false};  // Set by thread_ when the listen loop returns.
  int port_ = 0;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_METRICS_HTTP_H_
