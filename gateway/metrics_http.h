// Serves GET /metrics (Prometheus text) on its own HTTP port and thread.
//
// A small HTTP/1.1 server of our own rather than a general library, because the port is
// reachable by anyone who can reach the host and a scrape must get through whatever else
// is connected: one thread polls every connection; each has a whole-request deadline
// (kRequestDeadline to send its request head, then kResponseDeadline to take the
// response), at most kMaxConnections are open (a new one beyond that closes the oldest
// still sending its request),
// a request head is at most kMaxRequestBytes, and every connection serves one request.
// A peer that trickles bytes, sends nothing or never reads is dropped at its deadline
// without holding up anyone else (cpp-httplib 0.11, used before, gave each connection a
// worker thread until it stopped making progress: 40 trickling peers blocked every scrape).
#ifndef WARDEN_GATEWAY_METRICS_HTTP_H_
#define WARDEN_GATEWAY_METRICS_HTTP_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/metrics.h"

namespace warden::gateway {

// Owns the listening socket and the server thread; stops both on destruction. `metrics`
// must outlive it. Each scrape first records the process's memory gauges
// (memory_report.h), then renders.
class MetricsHttpServer {
 public:
  static constexpr std::chrono::milliseconds kRequestDeadline{2000};
  static constexpr std::chrono::milliseconds kResponseDeadline{10000};  // Prometheus' default scrape timeout
  static constexpr int kMaxConnections = 64;
  static constexpr size_t kMaxRequestBytes = 8192;

  // `address` is HOST:PORT (port 0 picks a free one; HOST may be a name, an IPv4 address
  // or a bracketed IPv6 one). `before_render` (may be empty) runs at each scrape, on the
  // server's thread, to set gauges read at that moment.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address, Metrics* metrics,
                                                                  std::function<void()> before_render = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;
  int port() const { return port_; }

 private:
  struct Connection;
  MetricsHttpServer(Metrics* metrics, std::function<void()> before_render)
      : metrics_(metrics), before_render_(std::move(before_render)) {}
  void Loop();
  bool Accept(std::vector<Connection>& connections);
  // Reads what `connection` sent; once its request head is complete, queues the response.
  // False when the connection is to be closed.
  bool Read(Connection& connection);
  bool Write(Connection& connection);
  std::string Respond(const std::string& head);

  Metrics* const metrics_;
  const std::function<void()> before_render_;
  int listen_fd_ = -1;
  int wake_read_fd_ = -1, wake_write_fd_ = -1;  // a byte on the pipe stops the loop
  int port_ = 0;
  std::thread thread_;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_METRICS_HTTP_H_
