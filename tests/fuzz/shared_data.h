// Data the fuzzers load once per process: the o200k_harmony tokenizer and the default
// policy sets, found through the binary's runfiles.
//
// Thread safety: the first call loads (function-local static); the returned objects are
// immutable and live until exit. Aborts when the data cannot be found or loaded: that is a
// broken build, not an input the fuzzer produced.
#ifndef WARDEN_TESTS_FUZZ_SHARED_DATA_H_
#define WARDEN_TESTS_FUZZ_SHARED_DATA_H_

#include <memory>
#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"
#include "policies/compiled_policies.h"

namespace warden::fuzz {

// The shipped o200k_base vocabulary plus the harmony specials.
const model::Tokenizer& SharedTokenizer();

// The sets of policies/default/*.textproto, and their ids.
std::shared_ptr<const policies::CompiledPolicies> DefaultPolicies();
const std::vector<std::string>& DefaultPolicySetIds();

}  // namespace warden::fuzz

#endif  // WARDEN_TESTS_FUZZ_SHARED_DATA_H_
