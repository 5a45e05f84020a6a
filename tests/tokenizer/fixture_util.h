// Helpers shared by the tokenizer and harmony fixture tests: load the shipped tokenizer
// once per test binary and read JSON-lines fixture files. Test-only; the shared tokenizer
// is immutable and thread-safe.
#ifndef WARDEN_TESTS_TOKENIZER_FIXTURE_UTIL_H_
#define WARDEN_TESTS_TOKENIZER_FIXTURE_UTIL_H_

#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"

namespace warden::testing {

// The default vocabulary, loaded once; fails the calling test (and returns null) if it
// cannot be loaded.
const model::Tokenizer* SharedTokenizer();

// Every line of `path` (relative to the runfiles root) parsed as ordered JSON. A missing
// file or malformed line is reported as a test failure.
std::vector<nlohmann::ordered_json> ReadJsonLines(const std::string& path);

// Ids as JSON array -> vector.
std::vector<uint32_t> IdsFromJson(const nlohmann::ordered_json& array);

// "first difference at index i (expected X, got Y)" or "sizes differ".
std::string DescribeDifference(const std::vector<uint32_t>& expected,
                               const std::vector<uint32_t>& actual);

}  // namespace warden::testing

#endif  // WARDEN_TESTS_TOKENIZER_FIXTURE_UTIL_H_
