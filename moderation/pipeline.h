// The moderation pipeline: policy-filter findings (computed by the caller) -> fast
// classifier -> LLM policy classifier (only for categories configured with
// escalate_to_llm, or whose fast score falls in the uncertain band) -> warden.v1.Decision.
//
// Rules, in order:
//  1. Non-shadow policy findings set a starting action (the maximum of their actions). A
//     BLOCK there ends the pipeline (decided_by POLICY_FILTER); no classifier runs.
//  2. settings.disabled skips the classifiers.
//  3. Fast classifier: every category gets a score. Threshold per category: the
//     CategorySetting's threshold if > 0, else settings.default_threshold if > 0, else the
//     classifier's own recommended threshold (shipped in its model file). Action per
//     category: the CategorySetting's action, else settings.default_action, else FLAG.
//     REDACT is treated as BLOCK (a whole text has no span to redact). A flagged BLOCK
//     category that is not escalated ends the pipeline (decided_by FAST_CLASSIFIER).
//     With settings.long_text_window_words N > 0 a text of more than N words is also
//     scored in sentence-anchored windows and each category's score is its highest
//     (long_text.h); the budget covers all of it.
//  4. LLM stage (when a PolicyJudge is configured and settings.llm_policy is not empty):
//     one call judges the text against the policy; its probability replaces the score of
//     every escalated category (stage LLM_CLASSIFIER; threshold as above but falling back
//     to 0.5 instead of the fast model's threshold). The caller resolves llm_policy_file
//     into llm_policy. Without a judge or policy, escalated categories keep their fast
//     scores.
//  5. A stage that fails or exceeds its budget (fast_classifier_budget_ms, 0 = none;
//     llm_classifier_budget_ms per text judged, 0 = kDefaultLlmBudgetPerText) stops the pipeline: with fail_open false the
//     text is blocked (decided_by FAILURE), otherwise it passes with the actions found so
//     far and Decision.fail_open set (decided_by FAILURE unless an earlier finding set the
//     action).
//  6. The enforced action is the maximum over the findings and the flagged categories;
//     decided_by is the stage that produced it (the last stage that ran for ALLOW).
//
// Thread safety: immutable after construction; Moderate may run concurrently. Shares
// ownership of its classifier and judge.
#ifndef WARDEN_MODERATION_PIPELINE_H_
#define WARDEN_MODERATION_PIPELINE_H_

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/deadline.h"
#include "absl/types/span.h"
#include "moderation/classifier.h"
#include "moderation/policy_judge.h"
#include "proto/common.pb.h"
#include "proto/moderation_config.pb.h"

namespace warden::moderation {

namespace pipeline_internal {
struct Resolved;  // the settings resolved per category (pipeline.cc)
class Run;        // one text's way through the stages (pipeline.cc)
}  // namespace pipeline_internal

struct PipelineOptions {
  // Findings of the policy filters for this text (shadow ones are recorded only).
  std::vector<warden::v1::RuleMatch> policy_findings;
  // Let a text pass when a check fails or times out (the default blocks it).
  bool fail_open = false;
  // The caller's deadline (e.g. the RPC's, with its cancellation): the LLM stage stops at
  // the earlier of it and its own budget, or when the caller cancels.
  Deadline deadline;
};

// The LLM classifier's budget per text when the settings give none (0): a call without a
// deadline (a client that set none, or has gone) must not hold the engine indefinitely.
inline constexpr absl::Duration kDefaultLlmBudgetPerText = absl::Seconds(60);

// llm_classifier_budget_ms, or kDefaultLlmBudgetPerText when it is 0.
absl::Duration LlmBudgetPerText(const warden::v1::ModerationSettings& settings);

// When one LLM classifier call judging `texts` texts together, started at `start`, must
// stop: after LlmBudgetPerText times `texts`, or at `caller_deadline` if that is earlier
// (or cancelled).
Deadline LlmBatchDeadline(const warden::v1::ModerationSettings& settings, absl::Time start, int64_t texts,
                            const Deadline& caller_deadline);

class Pipeline {
 public:
  using Clock = std::function<absl::Time()>;

  // `fast` is required; `judge` may be null (no LLM stage). `fast_thresholds` are the fast
  // classifier's recommended thresholds (FastClassifier::default_thresholds()). `clock`
  // defaults to absl::Now and is injectable for tests of the budgets.
  Pipeline(std::shared_ptr<const Classifier> fast,
           const std::array<float, kNumCategories>& fast_thresholds,
           std::shared_ptr<const PolicyJudge> judge = nullptr, Clock clock = nullptr);

  // Never fails for a text; InvalidArgument only for settings naming a non-classifier
  // category, a threshold outside [0, 1] or a long_text_window_words that
  // ValidateWindowWords refuses.
  absl::StatusOr<warden::v1::Decision> Moderate(std::string_view text,
                                                const warden::v1::ModerationSettings& settings,
                                                const PipelineOptions& options) const;

  // Moderate for each of `texts` with options[i] for texts[i], in order: the same
  // decisions, except that the texts whose LLM stage runs are judged in one
  // PolicyJudge::ViolationProbabilities call, which an
  // engine that batches answers faster than one call per text. That call's budget is
  // llm_classifier_budget_ms times the number of texts it judges, and it stops at the
  // earliest of their deadlines. The settings' errors are every text's error, as is a
  // size mismatch between `texts` and `options`.
  std::vector<absl::StatusOr<warden::v1::Decision>> ModerateMany(
      absl::Span<const std::string_view> texts, const warden::v1::ModerationSettings& settings,
      absl::Span<const PipelineOptions> options) const;

 private:
  using Categories = std::array<bool, kNumCategories>;

  // Rules 1-3 for one text; true when its LLM stage must run (`escalate` then says for
  // which categories).
  bool RunFastStage(std::string_view text, const warden::v1::ModerationSettings& settings,
                    const pipeline_internal::Resolved& resolved, pipeline_internal::Run& run,
                    Categories* escalate) const;
  // The judge's verdicts on `texts` against settings.llm_policy, asked in one call (rule 5's
  // budget: per text, times their number).
  std::vector<absl::StatusOr<float>> JudgeTogether(const warden::v1::ModerationSettings& settings,
                                                   absl::Span<const std::string> texts,
                                                   const Deadline& caller_deadline) const;
  // Rule 4 (and 5 when `violation` is an error) for one text.
  void ApplyLlmStage(const pipeline_internal::Resolved& resolved, const Categories& escalate,
                     const absl::StatusOr<float>& violation, pipeline_internal::Run& run) const;

  std::shared_ptr<const Classifier> fast_;
  std::array<float, kNumCategories> fast_thresholds_;
  std::shared_ptr<const PolicyJudge> judge_;
  Clock clock_;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_PIPELINE_H_
