// TextChecks on the real components: the policy filters (policies/) and the moderation
// pipeline (moderation/: fast classifier, optional LLM policy classifier).
#ifndef WARDEN_GATEWAY_PIPELINE_CHECKS_H_
#define WARDEN_GATEWAY_PIPELINE_CHECKS_H_

#include <memory>
#include <string>

#include "gateway/text_checks.h"
#include "moderation/pipeline.h"
#include "moderation/policy_judge.h"
#include "policies/policy_store.h"

namespace warden::gateway {

// Thread-safe. Each call takes the policies in force when it starts (a stream keeps its
// policies to the end), so a reload never shows a call a half-built policy.
class PipelineChecks : public TextChecks {
 public:
  // `store`, `pipeline` and `judge` (null: no LLM policy classifier) must outlive this.
  PipelineChecks(const policies::PolicyStore* store, const moderation::Pipeline* pipeline,
                 const moderation::PolicyJudge* judge, std::string classifier_name)
      : store_(store), pipeline_(pipeline), judge_(judge), classifier_name_(std::move(classifier_name)) {}

  absl::StatusOr<TextVerdict> Check(const v1::App& app, v1::Direction direction, std::string_view text,
                                    std::string_view policy_text = {},
                                    const Deadline& deadline = Deadline()) const override;
  // The texts' policy filters one by one, then the moderation pipeline on all of them
  // (Pipeline::ModerateMany: the texts its LLM stage escalates are judged in one call).
  // With a `policy_text`, one batched judgement of all texts comes first
  // (PolicyJudge::ViolationProbabilities), which the pipeline's LLM stage then reuses
  // instead of asking the judge again.
  std::vector<absl::StatusOr<TextVerdict>> CheckMany(const v1::App& app, v1::Direction direction,
                                                     absl::Span<const std::string> texts,
                                                     std::string_view policy_text = {},
                                                     const Deadline& deadline = Deadline()) const override;
  absl::StatusOr<std::unique_ptr<StreamChecks>> StartOutputStream(const v1::App& app, OutputDelivery delivery,
                                                                  const Deadline& deadline) const override;
  // Checks pinned to the policies in force now (the store, pipeline and judge must outlive
  // them).
  std::shared_ptr<const TextChecks> ForCall() const override;
  std::string policy_version() const override { return Policies()->version(); }
  std::string classifier_name() const override { return classifier_name_; }

 private:
  // The pinned policies (ForCall), else the store's current ones.
  std::shared_ptr<const policies::CompiledPolicies> Policies() const { return pinned_ ? pinned_ : store_->Current(); }

  const policies::PolicyStore* store_;
  std::shared_ptr<const policies::CompiledPolicies> pinned_;  // Set on ForCall's copies.
  // The judge's verdicts on `texts` against `policy_text`, asked together, within the app's
  // LLM budget per text times the number of texts (never past `call_deadline`).
  std::vector<absl::StatusOr<float>> JudgeAll(const v1::App& app, v1::Direction direction,
                                              absl::Span<const std::string> texts, std::string_view policy_text,
                                              const Deadline& call_deadline) const;
  const moderation::Pipeline* pipeline_;
  const moderation::PolicyJudge* judge_;
  std::string classifier_name_;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_PIPELINE_CHECKS_H_
