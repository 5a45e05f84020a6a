// Builds the checks and the model from a validated configuration, and reloads policies.
// Start-up fails with the reasons instead of serving with a broken part.
#ifndef WARDEN_GATEWAY_COMPONENTS_H_
#define WARDEN_GATEWAY_COMPONENTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/server_state.h"

namespace warden::gateway {

// Loads the policy files, the classifier, the pipeline and the model into `state`
// (whose config, metrics, limiter and audit are already set). Fails on unknown policy set
// ids of an app, unreadable LLM policy files, a corrupt checkpoint or classifier file.
absl::Status BuildComponents(ServerState* state);

struct PolicyReload {
  bool reloaded = false;
  std::vector<v1::ConfigError> errors;
  std::string old_version;
  std::string version;  // In force after the call.
};

// Validates policy texts (keyed by file name) as a reload would: parse and compile
// errors, and set ids the apps use but the texts lack.
std::vector<v1::ConfigError> ValidatePolicies(const ServerState& state,
                                              const std::map<std::string, std::string>& texts);

// ValidatePolicies for texts a client sent: also an error for every term file they name
// outside the folders of the configured policy files (the server reads no other file a
// request names).
std::vector<v1::ConfigError> ValidateSentPolicies(const ServerState& state,
                                                  const std::map<std::string, std::string>& texts);

// Reads the configured policy files into `texts` (keyed by path); one error per file that
// cannot be read.
std::vector<v1::ConfigError> ReadConfiguredPolicies(const ServerState& state,
                                                    std::map<std::string, std::string>* texts);

// Re-reads the configured policy files, compiles them fully and swaps them in; on any
// error the old policies stay. Thread-safe (reloads are serialised by state->reload_mu).
PolicyReload ReloadPolicies(ServerState* state);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_COMPONENTS_H_
