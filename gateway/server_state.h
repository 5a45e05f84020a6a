// Everything the services share, built once at start-up from a validated configuration.
#ifndef WARDEN_GATEWAY_SERVER_STATE_H_
#define WARDEN_GATEWAY_SERVER_STATE_H_

#include <memory>

#include "gateway/auth.h"
#include "gateway/config_loader.h"

namespace warden::gateway {

// Owned by the server; outlives every call. Members are immutable or thread-safe.
struct ServerState {
  LoadedConfig config;
  std::unique_ptr<Authenticator> authenticator;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_SERVER_STATE_H_
