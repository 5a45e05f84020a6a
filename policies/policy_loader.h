// Loads policy files (one PolicySet each) into CompiledPolicies, validating everything
// first. Pure functions over their inputs (files are read, nothing is cached);
// thread-safe.
#ifndef WARDEN_POLICIES_POLICY_LOADER_H_
#define WARDEN_POLICIES_POLICY_LOADER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policies/compiled_policies.h"
#include "policies/config_error.h"

namespace warden::policies {

// Reads, validates and compiles the files. On any problem returns INVALID_ARGUMENT whose
// message lists every ConfigError ("file:line:column: field: message", one per line).
absl::StatusOr<std::shared_ptr<const CompiledPolicies>> LoadPolicyFiles(
    const std::vector<std::string>& paths);

// Like LoadPolicyFiles for in-memory texts keyed by file name (".json" names are parsed
// as JSON). Term-list files are still read relative to the name.
absl::StatusOr<std::shared_ptr<const CompiledPolicies>> LoadPolicyTexts(
    const std::map<std::string, std::string>& texts);

// Every error of the texts; empty when they would load. An empty file name is an error.
std::vector<ConfigError> ValidatePolicyTexts(const std::map<std::string, std::string>& texts);

// An error for every rule of the texts that names a term file outside `allowed_dirs`
// (resolved as the compiler does: relative to the text's name; symbolic links and ".."
// followed). For texts a client sent (Admin.ValidatePolicies): the server reads no other
// file a request names.
std::vector<ConfigError> TermFilesOutside(const std::map<std::string, std::string>& texts,
                                          const std::vector<std::string>& allowed_dirs);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_POLICY_LOADER_H_
