#include "gateway/server.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "gateway/components.h"
#include "gateway/limits.h"
#include "gateway/parse_error_interceptor.h"

namespace warden::gateway {
namespace {

// The file of TLS setting `field`, its error naming the field.
absl::StatusOr<std::string> ReadTlsFile(const char* field, const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat("tls.", field, ": ", text.status().message()));
  return text;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const v1::TlsSettings& tls) {
  if (tls.cert_file().empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  ASSIGN_OR_RETURN(std::string cert, ReadTlsFile("cert_file", tls.cert_file()));
  ASSIGN_OR_RETURN(std::string key, ReadTlsFile("key_file", tls.key_file()));
  options.pem_key_cert_pairs.push_back({key, cert});
  if (!tls.client_ca_file().empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadTlsFile("client_ca_file", tls.client_ca_file()));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

// The credentials, once gRPC has accepted them on a throwaway loopback listener: gRPC
// checks a certificate, key and client CA only when it binds, so a garbled file or a key
// that is not the certificate's was reported after the model load (minutes) and as
// "cannot listen ... (in use by another process)".
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> CheckedCredentials(const v1::TlsSettings& tls) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, MakeCredentials(tls));
  if (tls.cert_file().empty()) return credentials;
  // An abstract UNIX socket: no network, port or address family that the host could lack
  // or forbid, so a failure here is the credentials'.
  int bound = 0;
  grpc::ServerBuilder probe;
  probe.AddListeningPort(absl::StrCat("unix-abstract:warden-tls-probe-", ::getpid()), credentials, &bound);
  std::unique_ptr<grpc::Server> server = probe.BuildAndStart();
  if (server == nullptr || bound == 0) {
    const std::string files =
        tls.client_ca_file().empty()
            ? absl::StrCat("the certificate (tls.cert_file ", tls.cert_file(), ") or its key (tls.key_file ",
                           tls.key_file(), ")")
            : absl::StrCat("the certificate (tls.cert_file ", tls.cert_file(), "), its key (tls.key_file ",
                           tls.key_file(), ") or the client CA (tls.client_ca_file ", tls.client_ca_file(), ")");
    return absl::InvalidArgumentError(absl::StrCat("tls: gRPC refused ", files,
                                                   ": each must be PEM, and the key the certificate's "
                                                   "(gRPC's reason is logged above)"));
  }
  server->Shutdown();
  return credentials;
}

// The --listen override checked as the config's `listen` is, before anything loads.
absl::Status CheckListenOverride(const std::string& listen, const v1::ServerConfig& config) {
  if (listen.empty()) return absl::OkStatus();
  const absl::Status status = ValidateListenAddress(listen, /*allow_unix=*/true);
  if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("--listen: ", status.message()));
  if (!config.metrics_listen().empty() && SameListenPort(listen, config.metrics_listen())) {
    return absl::InvalidArgumentError(absl::StrCat("--listen ", listen, " uses the port of metrics_listen \"",
                                                   config.metrics_listen(), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WardenServer>> WardenServer::Start(LoadedConfig config,
                                                                  const ServerOptions& options) {
  RETURN_IF_ERROR(CheckListenOverride(options.listen, config.config));
  // Before the audit store and the model (minutes to load): a TLS mistake is found at once.
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, CheckedCredentials(config.config.tls()));
  std::unique_ptr<WardenServer> server(new WardenServer());
  server->state_ = std::make_unique<ServerState>();
  ServerState& state = *server->state_;
  state.config = std::move(config);
  const v1::ServerConfig& loaded = state.config.config;
  for (const auto& app : loaded.apps()) state.apps[app.id()] = &app;
  state.authenticator = std::make_unique<Authenticator>(loaded);
  state.metrics = std::make_unique<Metrics>();
  state.limiter = std::make_unique<Limiter>(loaded);
  ASSIGN_OR_RETURN(state.audit, AuditStore::Open(loaded.audit().path()));
  RETURN_IF_ERROR(BuildComponents(&state));
  if (!loaded.metrics_listen().empty()) {
    // The queue depth is read at each scrape (the runner outlives the metrics listener:
    // both belong to the server, and the listener stops first).
    const ModelRunner* runner = state.runner.get();
    Metrics* metrics = state.metrics.get();
    std::function<void()> before_render = [runner, metrics] {
      metrics->SetGauge("warden_queue_depth", {}, runner != nullptr ? static_cast<double>(runner->queued_generations()) : 0);
    };
    ASSIGN_OR_RETURN(server->metrics_http_,
                     MetricsHttpServer::Start(loaded.metrics_listen(), metrics, std::move(before_render)));
  }

  server->write_watchdog_ = std::make_unique<WriteWatchdog>(std::chrono::seconds(StreamWriteTimeoutSeconds(loaded)));
  server->warden_service_ = std::make_unique<WardenService>(&state, server->write_watchdog_.get());
  server->admin_service_ = std::make_unique<AdminService>(&state);

  const v1::ServerConfig& cfg = state.config.config;
  server->address_ = !options.listen.empty() ? options.listen
                     : !cfg.listen().empty() ? cfg.listen()
                                             : "127.0.0.1:50051";

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server->address_, credentials, &server->port_);
  // gRPC binds with SO_REUSEPORT by default: a second server on the same port would start,
  // and the kernel would share new connections between the two (an old instance with stale
  // policies serving part of the traffic). Without it the bind fails with "address in use".
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->warden_service_.get());
  builder.RegisterService(server->admin_service_.get());
  builder.SetMaxReceiveMessageSize(MaxReceiveBytes(loaded));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<ParseErrorInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", server->address_, " (in use by another process, or not a local address)"));
  }
  const uint32_t retention_days = cfg.audit().retention_days();
  if (retention_days > 0) {
    server->retention_thread_ = std::thread([raw = server.get(), retention_days] {
      do {
        const int64_t cutoff = absl::ToUnixMicros(absl::Now() - absl::Hours(24) * retention_days);
        (void)raw->state_->audit->DeleteOlderThan(cutoff, [raw] { return raw->stop_retention_.HasBeenNotified(); });
      } while (!raw->stop_retention_.WaitForNotificationWithTimeout(absl::Hours(1)));
    });
  }
  // The whole server ("") and each service by name: probes often name the service they
  // depend on. Shutdown's SetServingStatus(false) turns every one NOT_SERVING.
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  for (const char* service : {"warden.v1.Warden", "warden.v1.Admin"}) health->SetServingStatus(service, true);
  health->SetServingStatus(true);
  return server;
}

void WardenServer::Shutdown(std::chrono::seconds grace) {
  if (!stop_retention_.HasBeenNotified()) stop_retention_.Notify();
  if (retention_thread_.joinable()) retention_thread_.join();
  if (server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

WardenServer::~WardenServer() { Shutdown(std::chrono::seconds(0)); }

}  // namespace warden::gateway
