// LLM policy classifier in the gpt-oss-safeguard style: the model reads a written policy
// (developer message) and the text under review (user message), and the verdict is the
// probability it assigns to the violation label token at the first position of its final
// answer — not sampled text.
//
// The policy prefix is rendered and prefilled once per distinct policy and its handle is
// cached, so each further call prefills only the content tokens.
#ifndef WARDEN_MODERATION_LLM_POLICY_CLASSIFIER_H_
#define WARDEN_MODERATION_LLM_POLICY_CLASSIFIER_H_

#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "moderation/harmony_prompt.h"
#include "moderation/llm_backend.h"
#include "moderation/policy_judge.h"

namespace warden::moderation {

struct LlmPolicyClassifierOptions {
  HarmonyPromptOptions prompt;
  // The policy's output format asks for one of these labels; each must be a single token.
  std::string violation_label = "1";
  std::string safe_label = "0";
  // If the two labels together get less probability than this, the model is not answering
  // in the policy's format: the call fails (FailedPrecondition), which the pipeline treats
  // as a failed check (fail closed by default).
  float min_label_mass = 0.05f;
  // Distinct policies whose prefixes are kept, and the KV memory they may hold together;
  // beyond either, the least recently used are dropped. Policies come with requests too
  // (ModerateRequest.policy), so both bound what callers can pin of the engine's KV budget,
  // which generation shares. A prefix larger than the byte bound serves its call uncached.
  size_t max_cached_prefixes = 16;
  size_t max_cached_prefix_bytes = 256u << 20;
};

// Parses a sampled final answer: a bare label ("0"/"1" or the configured labels, surrounding
// whitespace ignored) or a JSON object {"violation": 0|1, ...}. InvalidArgument for
// anything else, so a malformed answer never passes as SAFE.
absl::StatusOr<bool> ParseVerdict(std::string_view final_answer,
                                  const LlmPolicyClassifierOptions& options);

// Thread safety: thread-safe; the prefix cache is guarded by a mutex. Shares ownership of
// the backend.
class LlmPolicyClassifier : public PolicyJudge {
 public:
  // InvalidArgument when a label is not exactly one token or the labels coincide.
  static absl::StatusOr<std::unique_ptr<LlmPolicyClassifier>> Create(
      std::shared_ptr<const LlmBackend> backend, LlmPolicyClassifierOptions options = {});

  // P(violation label) / (P(violation) + P(safe)) at the first answer position.
  absl::StatusOr<float> ViolationProbability(std::string_view policy, std::string_view text,
                                             const Deadline& deadline) const override;
  // The same for several texts, run together by the backend (LlmBackend::ScoreLabelsBatch).
  std::vector<absl::StatusOr<float>> ViolationProbabilities(std::string_view policy,
                                                            absl::Span<const std::string> texts,
                                                            const Deadline& deadline) const override;

 private:
  // P(violation) / (P(violation) + P(safe)) from the backend's label probabilities, with
  // the checks of the output's validity and label mass.
  absl::StatusOr<float> VerdictFrom(const absl::StatusOr<std::vector<float>>& probs) const;

  LlmPolicyClassifier(std::shared_ptr<const LlmBackend> backend,
                      LlmPolicyClassifierOptions options, uint32_t violation_id,
                      uint32_t safe_id);
  // The policy's cached prefix, prefilled first (within `deadline`) when absent.
  absl::StatusOr<std::shared_ptr<const PrefixHandle>> PrefixFor(std::string_view policy, const Deadline& deadline) const;

  // Caches `handle` for `policy` (most recently used), dropping the least recently used
  // entries beyond the bounds; returns the entry now cached for `policy` (an earlier
  // concurrent insert wins), or `handle` itself when it is too large to cache. Handles it
  // no longer keeps go to `dropped`, for the caller to destroy after the lock.
  std::shared_ptr<const PrefixHandle> Insert(const std::string& policy, std::shared_ptr<const PrefixHandle> handle,
                                             std::vector<std::shared_ptr<const PrefixHandle>>* dropped) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<const LlmBackend> backend_;
  const LlmPolicyClassifierOptions options_;
  const uint32_t violation_id_;
  const uint32_t safe_id_;
  mutable absl::Mutex mu_;
  // Least recently used first; few entries, so a list searched by key is enough.
  mutable std::list<std::pair<std::string, std::shared_ptr<const PrefixHandle>>> prefixes_ ABSL_GUARDED_BY(mu_);
  mutable size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_LLM_POLICY_CLASSIFIER_H_
