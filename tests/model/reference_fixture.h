// Loads the gpt-oss-tiny reference fixture (tests/data/gpt-oss-tiny) and compares logits
// against it. Test-only helpers.
#ifndef WARDEN_TESTS_MODEL_REFERENCE_FIXTURE_H_
#define WARDEN_TESTS_MODEL_REFERENCE_FIXTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace warden::model::testing {

inline constexpr char kTinyDir[] = "tests/data/gpt-oss-tiny";

struct GreedyReference {
  std::vector<int32_t> continuation;
  std::vector<float> margins;
};

struct ReferenceSequence {
  std::vector<int32_t> tokens;
  std::vector<float> logits;         // fp32 reference [tokens, vocab]
  std::vector<float> top2_margins;   // per position
  GreedyReference greedy;            // fp32 greedy continuation
};

struct Reference {
  int vocab = 0;
  std::vector<ReferenceSequence> sequences;
};

absl::StatusOr<Reference> LoadReference();

struct LogitsComparison {
  double max_abs_diff = 0;
  double mean_abs_diff = 0;
  // Positions whose reference margin is >= 0.25 but whose argmax differs.
  std::vector<int> argmax_mismatches;
};

LogitsComparison CompareLogits(const std::vector<float>& actual, const ReferenceSequence& reference,
                               int vocab);

}  // namespace warden::model::testing

#endif  // WARDEN_TESTS_MODEL_REFERENCE_FIXTURE_H_
