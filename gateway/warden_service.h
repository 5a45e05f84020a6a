// The public Warden service (Generate, StreamGenerate, Moderate) on gRPC's synchronous
// API. Handlers run on gRPC's thread pool; they authenticate, then hand the work to the
// request pipeline. Thread-safe: the service holds only shared, immutable state.
#ifndef WARDEN_GATEWAY_WARDEN_SERVICE_H_
#define WARDEN_GATEWAY_WARDEN_SERVICE_H_

#include "gateway/request_log.h"
#include "gateway/server_state.h"
#include "proto/warden.grpc.pb.h"

namespace warden::gateway {

class WardenService final : public v1::Warden::Service {
 public:
  explicit WardenService(ServerState* state) : state_(state) {}

  grpc::Status Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                        v1::GenerateResponse* response) override;
  grpc::Status StreamGenerate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                              grpc::ServerWriter<v1::GenerateChunk>* writer) override;
  grpc::Status Moderate(grpc::ServerContext* context, const v1::ModerateRequest* request,
                        v1::ModerateResponse* response) override;

 private:
  // Counts and logs one finished Generate/StreamGenerate call.
  void Finish(const char* rpc, const v1::App* app, const absl::Status& status, absl::Time start,
              const v1::GenerateResponse* response) const;
  // Counts and logs any finished call.
  void Finish(RequestLogEntry entry, absl::Time start) const;

  ServerState* state_;  // Not owned; outlives the service.
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_WARDEN_SERVICE_H_
