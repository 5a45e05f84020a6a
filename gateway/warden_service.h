// The public Warden service (Generate, StreamGenerate, Moderate) on gRPC's synchronous
// API. Handlers run on gRPC's thread pool; they authenticate, then hand the work to the
// request pipeline. Thread-safe: the service holds only shared, immutable state.
#ifndef WARDEN_GATEWAY_WARDEN_SERVICE_H_
#define WARDEN_GATEWAY_WARDEN_SERVICE_H_

#include "gateway/request_log.h"
#include "gateway/server_state.h"
#include "gateway/write_watchdog.h"
#include "proto/warden.grpc.pb.h"

namespace warden::gateway {

class WardenService final : public v1::Warden::Service {
 public:
  // `write_watchdog` cancels a stream whose client stops reading (see write_watchdog.h);
  // null: no watch.
  WardenService(ServerState* state, WriteWatchdog* write_watchdog) : state_(state), write_watchdog_(write_watchdog) {}

  grpc::Status Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                        v1::GenerateResponse* response) override;
  grpc::Status StreamGenerate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                              grpc::ServerWriter<v1::GenerateChunk>* writer) override;
  grpc::Status Moderate(grpc::ServerContext* context, const v1::ModerateRequest* request,
                        v1::ModerateResponse* response) override;

 private:
  // Who called: the key's app (null when authentication failed) and the key's label.
  struct Caller {
    const v1::App* app = nullptr;
    std::string key_label;
  };
  // Authenticates the call and finds its app (null, with `status` filled, on failure).
  static Caller FindCaller(const ServerState& state, const grpc::ServerContext& context, absl::Status* status);
  // Counts and logs one finished Generate/StreamGenerate call.
  void Finish(const char* rpc, const Caller& caller, const absl::Status& status, absl::Time start,
              const v1::GenerateResponse* response) const;
  // Counts and logs a stream the write watchdog cancelled (`request_id` may be empty).
  void CountWriteStall(const v1::App& app, const std::string& request_id) const;
  // Rewrites the audit record of `request_id` with the status its client received (after
  // the record was committed; a failure is counted and logged, the call's outcome stands).
  void RecordClientStatus(const std::string& request_id, const absl::Status& status) const;
  // Counts and logs any finished call.
  void Finish(RequestLogEntry entry, absl::Time start) const;

  ServerState* state_;              // Not owned; outlives the service.
  WriteWatchdog* write_watchdog_;  // Not owned; outlives the service. May be null.
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_WARDEN_SERVICE_H_
