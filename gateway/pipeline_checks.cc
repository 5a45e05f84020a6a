#include "gateway/pipeline_checks.h"

#include <vector>

#include "base/status_macros.h"
#include "policies/stream_scanner.h"

namespace warden::gateway {
namespace {

// Classifiers re-read the whole output released so far at least this often (bytes), so a
// harmful passage is judged in context before it is released.
constexpr size_t kClassifyEveryBytes = 256;

std::vector<std::string> SetsFor(const v1::App& app, v1::Direction direction) {
  const auto& sets = direction == v1::OUTPUT ? app.output_policy_sets() : app.input_policy_sets();
  return std::vector<std::string>(sets.begin(), sets.end());
}

const v1::ModerationSettings& SettingsFor(const v1::App& app, v1::Direction direction) {
  return direction == v1::OUTPUT ? app.output_moderation() : app.input_moderation();
}

// Runs the moderation pipeline on `text` given the policy findings, and keeps a rule's
// own block message when a rule decided.
absl::StatusOr<v1::Decision> Classify(const moderation::Pipeline& pipeline, const v1::App& app,
                                      v1::Direction direction, std::string_view text,
                                      std::vector<v1::RuleMatch> findings, const std::string& block_message,
                                      std::string_view policy_text, absl::Time deadline) {
  moderation::PipelineOptions options;
  options.policy_findings = std::move(findings);
  options.fail_open = app.check_failure() == v1::FAIL_OPEN;
  options.deadline = deadline;
  v1::ModerationSettings settings = SettingsFor(app, direction);
  if (!policy_text.empty()) settings.set_llm_policy(std::string(policy_text));
  ASSIGN_OR_RETURN(v1::Decision decision, pipeline.Moderate(text, settings, options));
  if (decision.action() == v1::BLOCK && decision.decided_by() == v1::POLICY_FILTER && !block_message.empty()) {
    decision.set_message(block_message);
  }
  return decision;
}

// Output stream: the policy StreamScanner holds back what a pattern could still match;
// what it releases waits again until the classifiers have re-read the whole output so far.
class PipelineStreamChecks : public StreamChecks {
 public:
  PipelineStreamChecks(std::unique_ptr<policies::StreamScanner> scanner, const moderation::Pipeline* pipeline,
                       const v1::App& app, absl::Time deadline)
      : scanner_(std::move(scanner)), pipeline_(pipeline), app_(app), deadline_(deadline) {
    decision_.set_action(v1::ALLOW);
  }

  absl::StatusOr<StreamStep> Push(std::string_view text) override {
    ASSIGN_OR_RETURN(policies::StreamUpdate update, scanner_->Push(text));
    return Advance(std::move(update), /*final=*/false);
  }
  absl::StatusOr<StreamStep> Finish() override {
    ASSIGN_OR_RETURN(policies::StreamUpdate update, scanner_->Finish());
    return Advance(std::move(update), /*final=*/true);
  }
  const v1::Decision& decision() const override { return decision_; }

 private:
  absl::StatusOr<StreamStep> Advance(policies::StreamUpdate update, bool final) {
    StreamStep step;
    for (auto& match : update.matches) findings_.push_back(std::move(match));
    if (!update.block_message.empty()) block_message_ = update.block_message;
    pending_ += update.released;
    const bool blocked_by_rule = update.action == v1::BLOCK;
    const bool classifiers_off = app_.output_moderation().disabled();
    if (!blocked_by_rule && !final && !classifiers_off && pending_.size() < kClassifyEveryBytes) return step;
    // Classify everything so far (released + pending) together with the rule findings.
    ASSIGN_OR_RETURN(decision_, Classify(*pipeline_, app_, v1::OUTPUT, released_ + pending_, findings_,
                                         block_message_, {}, deadline_));
    if (blocked_by_rule || decision_.action() == v1::BLOCK) {
      step.blocked = true;
      pending_.clear();
      return step;
    }
    step.released = std::move(pending_);
    pending_.clear();
    released_ += step.released;
    return step;
  }

  std::unique_ptr<policies::StreamScanner> scanner_;
  const moderation::Pipeline* pipeline_;
  const v1::App& app_;
  const absl::Time deadline_;  // The call's; bounds the LLM stage of every classification.
  std::vector<v1::RuleMatch> findings_;
  std::string block_message_;
  std::string pending_;   // Cleared by the policy filters, waiting for the classifiers.
  std::string released_;  // Already sent (redacted where rules said so).
  v1::Decision decision_;
};

}  // namespace

absl::StatusOr<TextVerdict> PipelineChecks::Check(const v1::App& app, v1::Direction direction, std::string_view text,
                                                  std::string_view policy_text, absl::Time deadline) const {
  const std::shared_ptr<const policies::CompiledPolicies> policies = store_->Current();
  ASSIGN_OR_RETURN(policies::ScanResult scan, policies->Scan(SetsFor(app, direction), direction, text));
  TextVerdict verdict;
  ASSIGN_OR_RETURN(verdict.decision, Classify(*pipeline_, app, direction, text, std::move(scan.matches),
                                              scan.block_message, policy_text, deadline));
  if (!policy_text.empty()) {
    RETURN_IF_ERROR(JudgeAgainstPolicy(app, direction, text, policy_text, deadline, &verdict));
  }
  switch (verdict.decision.action()) {
    case v1::BLOCK:
      break;  // Nothing passes on.
    case v1::REDACT:
      verdict.text = std::move(scan.redacted_text);
      break;
    default:
      verdict.text = std::string(text);
  }
  return verdict;
}

absl::Status PipelineChecks::JudgeAgainstPolicy(const v1::App& app, v1::Direction direction, std::string_view text,
                                                std::string_view policy_text, absl::Time call_deadline,
                                                TextVerdict* verdict) const {
  if (judge_ == nullptr) {
    return absl::UnimplementedError("no model is loaded, so there is no LLM policy classifier for the policy");
  }
  const v1::ModerationSettings& settings = SettingsFor(app, direction);
  // A client that stops waiting must not leave a long policy prefilling.
  const absl::Time deadline = moderation::LlmStageDeadline(settings, absl::Now(), call_deadline);
  const absl::StatusOr<float> probability = judge_->ViolationProbability(policy_text, text, deadline);
  v1::Decision& decision = verdict->decision;
  if (!probability.ok()) {
    // The policy could not be applied: fail closed unless the app opted out.
    if (app.check_failure() == v1::FAIL_OPEN) {
      decision.set_fail_open(true);
    } else {
      decision.set_action(v1::BLOCK);
      decision.set_decided_by(v1::FAILURE);
      decision.set_message(std::string("the LLM policy classifier could not run: ") +
                           std::string(probability.status().message()));
    }
    return absl::OkStatus();
  }
  v1::PolicyVerdict policy_verdict;
  policy_verdict.set_score(*probability);
  policy_verdict.set_violation(*probability >= 0.5f);
  verdict->policy_verdict = policy_verdict;
  const v1::Action action =
      settings.default_action() == v1::ACTION_UNSPECIFIED ? v1::FLAG : settings.default_action();
  if (policy_verdict.violation() && action > decision.action()) {
    decision.set_action(action == v1::REDACT ? v1::BLOCK : action);
    decision.set_decided_by(v1::LLM_CLASSIFIER);
    decision.set_message("the text violates the given policy");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StreamChecks>> PipelineChecks::StartOutputStream(const v1::App& app,
                                                                                absl::Time deadline) const {
  ASSIGN_OR_RETURN(auto scanner,
                   policies::StreamScanner::Create(store_->Current(), SetsFor(app, v1::OUTPUT), v1::OUTPUT));
  return std::unique_ptr<StreamChecks>(new PipelineStreamChecks(std::move(scanner), pipeline_, app, deadline));
}

}  // namespace warden::gateway
