#include "gateway/metrics_http.h"

#include <sys/socket.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/process_memory.h"
#include "gateway/memory_report.h"

namespace warden::gateway {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(const std::string& address,
                                                                            Metrics* metrics,
                                                                            std::function<void()> before_render) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics_listen must be HOST:PORT, got \"", address, "\""));
  }
  const std::string host = address.substr(0, colon);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->server_ = std::make_unique<httplib::Server>();
  // Bounds for what one scraper (or anyone reaching the port) can hold: a GET has no body,
  // each connection serves one request, and a silent or trickling peer is dropped after
  // 2 s without progress. (cpp-httplib 0.11 has no whole-request deadline nor queue bound.)
  server->server_->set_payload_max_length(4096);
  server->server_->set_read_timeout(2, 0);
  server->server_->set_write_timeout(2, 0);
  server->server_->set_keep_alive_max_count(1);
  server->server_->set_keep_alive_timeout(1);
  server->server_->Get("/metrics", [metrics, before_render](const httplib::Request&, httplib::Response& response) {
    RecordProcessMemory(ReadProcessMemory(), *metrics);
    if (before_render) before_render();
    response.set_content(metrics->RenderPrometheus(), "text/plain; version=0.0.4");
  });
  // cpp-httplib's default socket options add SO_REUSEPORT, which would let a second server
  // bind the same port and take half of the scrapes: address reuse only.
  server->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    server->port_ = server->server_->bind_to_any_port(host);
  } else {
    server->port_ = server->server_->bind_to_port(host, port) ? port : -1;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, " for metrics (in use by another process, or not a local address)"));
  }
  httplib::Server* raw = server->server_.get();
  std::atomic<bool>* listen_ended = &server->listen_ended_;
  server->thread_ = std::thread([raw, listen_ended] {
    raw->listen_after_bind();
    *listen_ended = true;
  });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (!thread_.joinable()) return;
  // stop() does nothing until the listen loop runs: a server stopped right after Start (a
  // later startup step failing) waits for its loop to start, or to have ended, first.
  while (!server_->is_running() && !listen_ended_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  thread_.join();
}

}  // namespace warden::gateway
