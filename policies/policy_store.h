// PolicyStore: the current CompiledPolicies of the server, swapped atomically on reload.
// Thread-safe: Current() may be called from any thread while another reloads; a caller
// keeps the snapshot it got (shared_ptr) for the whole request, so it never sees a mix
// of old and new rules.
#ifndef WARDEN_POLICIES_POLICY_STORE_H_
#define WARDEN_POLICIES_POLICY_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "policies/compiled_policies.h"

namespace warden::policies {

class PolicyStore {
 public:
  // Loads `paths` (see LoadPolicyFiles); fails like it.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(std::vector<std::string> paths);
  // A store holding `initial` (not null); Reload() re-reads `paths`.
  PolicyStore(std::shared_ptr<const CompiledPolicies> initial, std::vector<std::string> paths);

  // The policies in force; never null.
  std::shared_ptr<const CompiledPolicies> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // Re-reads the files, compiles them fully and only then swaps. On error the current
  // policies stay and the error lists every problem. Returns the new version. Concurrent
  // reloads are serialised.
  absl::StatusOr<std::string> Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);
  // Swaps in already compiled policies (e.g. from LoadPolicyTexts); `next` not null.
  void Swap(std::shared_ptr<const CompiledPolicies> next) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which then cannot see absl::Mutex's synchronisation; pthread-based locks it can.
  const std::vector<std::string> paths_;
  std::mutex reload_mu_;  // Serialises Reload; compiling happens outside mu_.
  mutable std::mutex mu_;
  std::shared_ptr<const CompiledPolicies> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_POLICY_STORE_H_
