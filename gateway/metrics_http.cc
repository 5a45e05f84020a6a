#include "gateway/metrics_http.h"

#include <httplib.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/process_memory.h"
#include "gateway/memory_report.h"

namespace warden::gateway {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(const std::string& address,
                                                                            Metrics* metrics) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics_listen must be HOST:PORT, got \"", address, "\""));
  }
  const std::string host = address.substr(0, colon);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& response) {
    RecordProcessMemory(ReadProcessMemory(), *metrics);
    response.set_content(metrics->RenderPrometheus(), "text/plain; version=0.0.4");
  });
  if (port == 0) {
    server->port_ = server->server_->bind_to_any_port(host);
  } else {
    server->port_ = server->server_->bind_to_port(host, port) ? port : -1;
  }
  if (server->port_ <= 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " for metrics"));
  httplib::Server* raw = server->server_.get();
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace warden::gateway
