// Validates a parsed PolicySet completely and compiles it into a CompiledSet.
#ifndef WARDEN_POLICIES_RULE_COMPILER_H_
#define WARDEN_POLICIES_RULE_COMPILER_H_

#include <memory>
#include <vector>

#include "policies/compiled_set.h"
#include "policies/config_error.h"
#include "policies/policy_parser.h"

namespace warden::policies {

// Checks every rule (ids, categories, actions, regexes with RE2's error, term files,
// thresholds, redaction keys) and builds the matchers. Appends every problem found to
// `errors` with its file/line/field and returns nullptr if there was any. Reads term-list
// files relative to the policy file. Thread-safe (no shared state).
std::unique_ptr<CompiledSet> CompileSet(const ParsedPolicyFile& file,
                                        std::vector<ConfigError>* errors);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_RULE_COMPILER_H_
