#include "gateway/components.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/runfiles.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "gateway/engine_runner.h"
#include "gateway/pipeline_checks.h"
#include "moderation/default_model.h"
#include "moderation/engine_llm_backend.h"
#include "moderation/llm_policy_classifier.h"
#include "moderation/fast_classifier.h"
#include "policies/policy_loader.h"

namespace warden::gateway {
namespace {

v1::ConfigError ToProto(const policies::ConfigError& error) {
  v1::ConfigError out;
  out.set_file(error.file);
  out.set_line(error.line);
  out.set_column(error.column);
  out.set_field(error.field);
  out.set_message(error.message);
  return out;
}

// Errors for policy set ids that apps use but `policies` lacks.
std::vector<v1::ConfigError> MissingSets(const ServerState& state, const policies::CompiledPolicies& policies) {
  std::vector<v1::ConfigError> errors;
  const auto& apps = state.config.config.apps();
  for (int a = 0; a < apps.size(); ++a) {
    const v1::App& app = apps[a];
    const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> fields[] = {
        {"input_policy_sets", &app.input_policy_sets()}, {"output_policy_sets", &app.output_policy_sets()}};
    for (const auto& [name, sets] : fields) {
      for (int i = 0; i < sets->size(); ++i) {  // One error per unknown id, named by its field.
        const absl::Status status = policies.CheckSetIds({(*sets)[i]});
        if (status.ok()) continue;
        v1::ConfigError error;
        error.set_file(state.config.path);
        const std::string field = absl::StrCat("apps[", a, "].", name, "[", i, "]");
        if (const auto at = state.config.policy_set_locations.find(field); at != state.config.policy_set_locations.end()) {
          error.set_line(at->second.line);
          error.set_column(at->second.column);
        }
        error.set_field(absl::StrCat(field, " (app '", app.id(), "')"));
        error.set_message(std::string(status.message()));
        errors.push_back(std::move(error));
      }
    }
  }
  return errors;
}

// Moves llm_policy_file contents into llm_policy so no file is read under traffic.
absl::Status InlineLlmPolicies(v1::ServerConfig* config) {
  for (auto& app : *config->mutable_apps()) {
    for (auto* settings : {app.mutable_input_moderation(), app.mutable_output_moderation()}) {
      if (settings->llm_policy_file().empty()) continue;
      auto text = ReadFile(settings->llm_policy_file());
      if (!text.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("app ", app.id(), ": llm_policy_file: ", text.status().message()));
      }
      // An empty policy would send the model nothing to judge against.
      if (absl::StripAsciiWhitespace(*text).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("app ", app.id(), ": llm_policy_file: ", settings->llm_policy_file(), " is empty"));
      }
      settings->set_llm_policy(*text);
    }
  }
  return absl::OkStatus();
}

// The policy files (every app's sets present) and the fast classifier: checked before the
// model, whose loading takes minutes, so a mistake in them is reported at once.
absl::StatusOr<std::shared_ptr<const moderation::FastClassifier>> LoadPoliciesAndClassifier(ServerState* state) {
  const v1::ServerConfig& config = state->config.config;
  std::vector<std::string> files(config.policy_files().begin(), config.policy_files().end());
  ASSIGN_OR_RETURN(state->policy_store, policies::PolicyStore::Open(files));
  const std::vector<v1::ConfigError> missing = MissingSets(*state, *state->policy_store->Current());
  if (!missing.empty()) {
    std::vector<std::string> lines;
    for (const v1::ConfigError& error : missing) {
      const std::string at = error.line() > 0 ? absl::StrCat(":", error.line(), ":", error.column()) : "";
      lines.push_back(absl::StrCat(error.file(), at, ": ", error.field(), ": ", error.message()));
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  std::string model_path = config.classifier_model();
  if (model_path.empty()) {
    ASSIGN_OR_RETURN(model_path, moderation::FindDefaultModel());
  }
  return moderation::FastClassifier::Load(model_path);
}

// The checks on the loaded parts: the LLM policy classifier when a model runs.
absl::Status BuildChecks(ServerState* state, std::shared_ptr<const moderation::FastClassifier> classifier) {
  if (state->runner != nullptr) {
    auto backend = std::make_shared<moderation::EngineLlmBackend>(state->runner->engine(), state->runner->tokenizer());
    // Cached policy prefixes may hold a quarter of the KV budget, as the scheduler's
    // prompt-prefix cache may: generation keeps at least half.
    moderation::LlmPolicyClassifierOptions judge_options;
    judge_options.max_cached_prefix_bytes = static_cast<size_t>(state->runner->engine()->kv_budget_bytes() / 4);
    ASSIGN_OR_RETURN(std::shared_ptr<const moderation::LlmPolicyClassifier> judge,
                     moderation::LlmPolicyClassifier::Create(std::move(backend), judge_options));
    state->judge = std::move(judge);
  }
  state->pipeline =
      std::make_unique<moderation::Pipeline>(classifier, classifier->default_thresholds(), state->judge);
  state->checks = std::make_unique<PipelineChecks>(state->policy_store.get(), state->pipeline.get(),
                                                   state->judge.get(), classifier->name());
  return absl::OkStatus();
}

absl::Status LoadModel(ServerState* state) {
  const v1::ModelSettings& settings = state->config.config.model();
  if (settings.create_demo_if_missing()) RETURN_IF_ERROR(EnsureDemoCheckpoint(settings.model_dir()));
  ASSIGN_OR_RETURN(auto runner, EngineRunner::Create(EngineRunnerOptionsFrom(settings)));
  state->runner = std::move(runner);
  return absl::OkStatus();
}

}  // namespace

absl::Status BuildComponents(ServerState* state) {
  RETURN_IF_ERROR(InlineLlmPolicies(&state->config.config));
  ASSIGN_OR_RETURN(std::shared_ptr<const moderation::FastClassifier> classifier, LoadPoliciesAndClassifier(state));
  RETURN_IF_ERROR(LoadModel(state));
  return BuildChecks(state, std::move(classifier));
}

std::vector<v1::ConfigError> ValidatePolicies(const ServerState& state,
                                              const std::map<std::string, std::string>& texts) {
  std::vector<v1::ConfigError> errors;
  for (const auto& error : policies::ValidatePolicyTexts(texts)) errors.push_back(ToProto(error));
  if (!errors.empty()) return errors;
  auto compiled = policies::LoadPolicyTexts(texts);
  if (!compiled.ok()) {
    v1::ConfigError error;
    error.set_message(std::string(compiled.status().message()));
    return {error};
  }
  return MissingSets(state, **compiled);
}

std::vector<v1::ConfigError> ValidateSentPolicies(const ServerState& state,
                                                  const std::map<std::string, std::string>& texts) {
  std::vector<std::string> policy_dirs;
  for (const std::string& path : state.config.config.policy_files()) {
    policy_dirs.push_back(std::filesystem::path(path).parent_path().string());
  }
  std::vector<v1::ConfigError> errors;
  for (const auto& error : policies::TermFilesOutside(texts, policy_dirs)) errors.push_back(ToProto(error));
  if (!errors.empty()) return errors;
  return ValidatePolicies(state, texts);
}

std::vector<v1::ConfigError> ReadConfiguredPolicies(const ServerState& state,
                                                    std::map<std::string, std::string>* texts) {
  std::vector<v1::ConfigError> errors;
  for (const auto& path : state.config.config.policy_files()) {
    auto text = ReadFile(path);
    if (!text.ok()) {
      v1::ConfigError error;
      error.set_file(path);
      error.set_message(std::string(text.status().message()));
      errors.push_back(std::move(error));
      continue;
    }
    (*texts)[path] = *std::move(text);
  }
  return errors;
}

PolicyReload ReloadPolicies(ServerState* state) {
  std::lock_guard<std::mutex> lock(state->reload_mu);
  PolicyReload reload;
  reload.old_version = state->policy_store->Current()->version();
  reload.version = reload.old_version;
  std::map<std::string, std::string> texts;
  reload.errors = ReadConfiguredPolicies(*state, &texts);
  if (!reload.errors.empty()) return reload;
  reload.errors = ValidatePolicies(*state, texts);
  if (!reload.errors.empty()) return reload;
  auto compiled = policies::LoadPolicyTexts(texts);
  if (!compiled.ok()) {
    v1::ConfigError error;
    error.set_message(std::string(compiled.status().message()));
    reload.errors.push_back(std::move(error));
    return reload;
  }
  state->policy_store->Swap(*compiled);
  reload.reloaded = true;
  reload.version = (*compiled)->version();
  return reload;
}

}  // namespace warden::gateway
