// Everything the services share, built once at start-up from a validated configuration.
#ifndef WARDEN_GATEWAY_SERVER_STATE_H_
#define WARDEN_GATEWAY_SERVER_STATE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "gateway/audit_store.h"
#include "gateway/auth.h"
#include "gateway/call_context.h"
#include "gateway/config_loader.h"
#include "gateway/limits.h"
#include "gateway/metrics.h"
#include "gateway/engine_runner.h"
#include "gateway/model_runner.h"
#include "gateway/text_checks.h"
#include "moderation/pipeline.h"
#include "policies/policy_store.h"

namespace warden::gateway {

// Owned by the server; outlives every call. Members are immutable after start-up or
// thread-safe themselves.
struct ServerState {
  LoadedConfig config;
  absl::flat_hash_map<std::string, const v1::App*> apps;  // Points into `config`.
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Limiter> limiter;
  std::unique_ptr<AuditStore> audit;
  // Declared (so built and destroyed) before the checks: the LLM judge holds KV prefixes
  // in the runner's engine.
  std::unique_ptr<EngineRunner> runner;  // Null when no model is configured.
  std::unique_ptr<policies::PolicyStore> policy_store;
  std::shared_ptr<const moderation::PolicyJudge> judge;  // Null without a model.
  std::unique_ptr<moderation::Pipeline> pipeline;
  std::unique_ptr<TextChecks> checks;  // Uses policy_store, pipeline and judge.
  // Serialises policy reloads (SIGHUP and Admin.ReloadPolicies): reading, compiling and
  // swapping happen as one, so a reload that read older files cannot swap in last.
  std::mutex reload_mu;

  CallDeps deps() const { return CallDeps{checks.get(), runner.get(), audit.get(), limiter.get(), metrics.get()}; }
  const v1::App* FindApp(const std::string& id) const {
    const auto it = apps.find(id);
    return it == apps.end() ? nullptr : it->second;
  }
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_SERVER_STATE_H_
