// The narrow interface through which the pipeline asks an LLM policy classifier (see
// llm_policy_classifier.h) whether a text violates a written policy.
#ifndef WARDEN_MODERATION_POLICY_JUDGE_H_
#define WARDEN_MODERATION_POLICY_JUDGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/deadline.h"
#include "absl/types/span.h"

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
                                                     const Deadline& deadline) const = 0;

  // ViolationProbability for each of `texts`, in order; an error is that text's only. An
  // implementation may judge them together (faster than one by one); the default does not.
  virtual std::vector<absl::StatusOr<float>> ViolationProbabilities(std::string_view policy,
                                                                    absl::Span<const std::string> texts,
                                                                    const Deadline& deadline) const {
    std::vector<absl::StatusOr<float>> results;
    results.reserve(texts.size());
    for (const std::string& text : texts) results.push_back(ViolationProbability(policy, text, deadline));
    return results;
  }
};

// judge.ViolationProbabilities(policy, texts, deadline), except that a judge that answers
// with the wrong number of verdicts gives no verdict at all: an error for every text (the
// pipeline then fails closed), never an index past its answers.
inline std::vector<absl::StatusOr<float>> JudgeEach(const PolicyJudge& judge, std::string_view policy,
                                                    absl::Span<const std::string> texts, const Deadline& deadline) {
  std::vector<absl::StatusOr<float>> verdicts = judge.ViolationProbabilities(policy, texts, deadline);
  if (verdicts.size() != texts.size()) {
    return std::vector<absl::StatusOr<float>>(
        texts.size(), absl::InternalError("the LLM policy classifier returned a wrong number of verdicts"));
  }
  return verdicts;
}

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_POLICY_JUDGE_H_
