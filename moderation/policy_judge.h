// The narrow interface through which the pipeline asks an LLM policy classifier (see
// llm_policy_classifier.h) whether a text violates a written policy.
#ifndef WARDEN_MODERATION_POLICY_JUDGE_H_
#define WARDEN_MODERATION_POLICY_JUDGE_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace warden::moderation {

// Thread safety: implementations must allow concurrent calls.
class PolicyJudge {
 public:
  virtual ~PolicyJudge() = default;

  // Probability in [0, 1] that `text` violates `policy`. DeadlineExceeded when the work
  // cannot finish by `deadline`; any error means "no verdict" (the pipeline then applies
  // its fail-closed/fail-open rule).
  virtual absl::StatusOr<float> ViolationProbability(std::string_view policy,
                                                     std::string_view text,
                                                     absl::Time deadline) const = 0;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_POLICY_JUDGE_H_
