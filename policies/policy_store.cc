#include "policies/policy_store.h"

#include <utility>

#include "policies/policy_loader.h"

namespace warden::policies {

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(std::vector<std::string> paths) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyFiles(paths);
  if (!loaded.ok()) return loaded.status();
  return std::make_unique<PolicyStore>(*std::move(loaded), std::move(paths));
}

PolicyStore::PolicyStore(std::shared_ptr<const CompiledPolicies> initial,
                         std::vector<std::string> paths)
    : paths_(std::move(paths)), current_(std::move(initial)) {}

std::shared_ptr<const CompiledPolicies> PolicyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

absl::StatusOr<std::string> PolicyStore::Reload() {
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyFiles(paths_);
  if (!loaded.ok()) return loaded.status();
  std::string version = (*loaded)->version();
  Swap(*std::move(loaded));
  return version;
}

void PolicyStore::Swap(std::shared_ptr<const CompiledPolicies> next) {
  if (next == nullptr) return;
  std::shared_ptr<const CompiledPolicies> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(current_);
    current_ = std::move(next);
  }
  // `old` is released here, outside the lock (it may be the last reference).
}

}  // namespace warden::policies
