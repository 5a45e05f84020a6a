// The running gRPC server: services, health checking, reflection, graceful shutdown.
#ifndef WARDEN_GATEWAY_SERVER_H_
#define WARDEN_GATEWAY_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "gateway/admin_service.h"
#include "gateway/components.h"
#include "gateway/metrics_http.h"
#include "gateway/server_state.h"
#include "gateway/warden_service.h"
#include "gateway/write_watchdog.h"

namespace warden::gateway {

struct ServerOptions {
  std::string listen;  // Overrides the config's `listen` when not empty.
};

// Owns the gRPC server and the shared state. Start() returns only once every component
// has loaded and the health service reports SERVING. Shutdown() may be called from any
// thread, once.
class WardenServer {
 public:
  static absl::StatusOr<std::unique_ptr<WardenServer>> Start(LoadedConfig config, const ServerOptions& options);
  ~WardenServer();

  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // The Prometheus HTTP port, or 0 when metrics are off.
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }
  const v1::ServerConfig& config() const { return state_->config.config; }

  // Reloads the policy files (SIGHUP); the old policies stay on any error.
  PolicyReload ReloadPolicies() { return gateway::ReloadPolicies(state_.get()); }

  // Reports NOT_SERVING, stops accepting calls, and waits for calls in flight up to
  // `grace`; then cancels what remains.
  void Shutdown(std::chrono::seconds grace);

 private:
  WardenServer() = default;

  std::unique_ptr<ServerState> state_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  // Cancels streams whose clients stopped reading; used by warden_service_'s calls, which
  // end (server_->Wait()) before it is destroyed.
  std::unique_ptr<WriteWatchdog> write_watchdog_;
  std::unique_ptr<WardenService> warden_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  // Deletes audit records past the retention period, at start and then hourly.
  absl::Notification stop_retention_;
  std::thread retention_thread_;
  int port_ = 0;
  std::string address_;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_SERVER_H_
