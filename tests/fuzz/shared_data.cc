#include "tests/fuzz/shared_data.h"

#include <cstdio>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "base/runfiles.h"
#include "policies/policy_loader.h"

namespace warden::fuzz {
namespace {

std::string RunfileOrDie(const std::string& relative) {
  absl::StatusOr<std::string> path = FindRunfile(relative);
  if (!path.ok()) {
    std::fprintf(stderr, "fuzzer data missing: %s\n", path.status().ToString().c_str());
    std::abort();
  }
  return *path;
}

}  // namespace

const model::Tokenizer& SharedTokenizer() {
  static const model::Tokenizer* const tokenizer = [] {
    absl::StatusOr<std::unique_ptr<model::Tokenizer>> loaded = model::Tokenizer::LoadTiktoken(
        RunfileOrDie("model/tokenizer/data/o200k_base.tiktoken"));
    if (!loaded.ok()) {
      std::fprintf(stderr, "cannot load tokenizer: %s\n", loaded.status().ToString().c_str());
      std::abort();
    }
    return loaded->release();
  }();
  return *tokenizer;
}

std::shared_ptr<const policies::CompiledPolicies> DefaultPolicies() {
  static const auto* const compiled = [] {
    std::vector<std::string> paths;
    for (const char* name : {"pii", "secrets", "injection", "blocklist"}) {
      paths.push_back(RunfileOrDie(std::string("policies/default/") + name + ".textproto"));
    }
    absl::StatusOr<std::shared_ptr<const policies::CompiledPolicies>> loaded =
        policies::LoadPolicyFiles(paths);
    if (!loaded.ok()) {
      std::fprintf(stderr, "cannot load default policies: %s\n",
                   loaded.status().ToString().c_str());
      std::abort();
    }
    return new std::shared_ptr<const policies::CompiledPolicies>(*std::move(loaded));
  }();
  return *compiled;
}

const std::vector<std::string>& DefaultPolicySetIds() {
  static const auto* const ids = new std::vector<std::string>(DefaultPolicies()->ListSets());
  return *ids;
}

}  // namespace warden::fuzz
