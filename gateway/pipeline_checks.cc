#include "gateway/pipeline_checks.h"

#include <algorithm>
#include <optional>
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
// own block message when a rule decided. `judged`: the judge's verdict on the text against
// `policy_text` when the caller already has it (the pipeline's LLM stage reuses it).
absl::StatusOr<v1::Decision> Classify(const moderation::Pipeline& pipeline, const v1::App& app,
                                      v1::Direction direction, std::string_view text,
                                      std::vector<v1::RuleMatch> findings, const std::string& block_message,
                                      std::string_view policy_text, absl::Time deadline,
                                      const std::optional<absl::StatusOr<float>>& judged = std::nullopt) {
  moderation::PipelineOptions options;
  options.policy_findings = std::move(findings);
  options.fail_open = app.check_failure() == v1::FAIL_OPEN;
  options.deadline = deadline;
  options.known_violation = judged;
  v1::ModerationSettings settings = SettingsFor(app, direction);
  if (!policy_text.empty()) settings.set_llm_policy(std::string(policy_text));
  ASSIGN_OR_RETURN(v1::Decision decision, pipeline.Moderate(text, settings, options));
  if (decision.action() == v1::BLOCK && decision.decided_by() == v1::POLICY_FILTER && !block_message.empty()) {
    decision.set_message(block_message);
  }
  return decision;
}

// Applies the judge's verdict on a text against a policy given with the request: a
// violation applies the direction's default action (decided_by LLM_CLASSIFIER); no verdict
// blocks (decided_by FAILURE) unless the app fails open.
void ApplyJudgement(const v1::App& app, v1::Direction direction, const absl::StatusOr<float>& probability,
                    TextVerdict* verdict) {
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
    return;
  }
  v1::PolicyVerdict policy_verdict;
  policy_verdict.set_score(*probability);
  policy_verdict.set_violation(*probability >= 0.5f);
  verdict->policy_verdict = policy_verdict;
  const v1::ModerationSettings& settings = SettingsFor(app, direction);
  const v1::Action action =
      settings.default_action() == v1::ACTION_UNSPECIFIED ? v1::FLAG : settings.default_action();
  if (policy_verdict.violation() && action > decision.action()) {
    decision.set_action(action == v1::REDACT ? v1::BLOCK : action);
    decision.set_decided_by(v1::LLM_CLASSIFIER);
    decision.set_message("the text violates the given policy");
  }
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
  const std::string texts[] = {std::string(text)};
  return std::move(CheckMany(app, direction, texts, policy_text, deadline).front());
}

std::vector<absl::StatusOr<TextVerdict>> PipelineChecks::CheckMany(const v1::App& app, v1::Direction direction,
                                                                   absl::Span<const std::string> texts,
                                                                   std::string_view policy_text,
                                                                   absl::Time deadline) const {
  std::vector<absl::StatusOr<float>> judged;
  if (!policy_text.empty()) judged = JudgeAll(app, direction, texts, policy_text, deadline);
  std::vector<absl::StatusOr<TextVerdict>> verdicts;
  verdicts.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::optional<absl::StatusOr<float>> judge_verdict;
    if (!policy_text.empty()) judge_verdict = judged[i];
    verdicts.push_back(CheckOne(app, direction, texts[i], policy_text, deadline, judge_verdict));
  }
  return verdicts;
}

std::vector<absl::StatusOr<float>> PipelineChecks::JudgeAll(const v1::App& app, v1::Direction direction,
                                                            absl::Span<const std::string> texts,
                                                            std::string_view policy_text,
                                                            absl::Time call_deadline) const {
  if (judge_ == nullptr) {
    return std::vector<absl::StatusOr<float>>(
        texts.size(),
        absl::UnimplementedError("no model is loaded, so there is no LLM policy classifier for the policy"));
  }
  // A client that stops waiting must not leave a long policy prefilling.
  const absl::Time now = absl::Now();
  const absl::Time per_text = moderation::LlmStageDeadline(SettingsFor(app, direction), now, call_deadline);
  const int64_t count = static_cast<int64_t>(std::max<size_t>(texts.size(), 1));
  const absl::Time deadline = std::min(call_deadline, now + (per_text - now) * count);
  return judge_->ViolationProbabilities(policy_text, texts, deadline);
}

absl::StatusOr<TextVerdict> PipelineChecks::CheckOne(const v1::App& app, v1::Direction direction,
                                                     std::string_view text, std::string_view policy_text,
                                                     absl::Time deadline,
                                                     const std::optional<absl::StatusOr<float>>& judged) const {
  // Without a model there is no judge: a request's policy cannot be applied at all.
  if (judged.has_value() && judged->status().code() == absl::StatusCode::kUnimplemented) return judged->status();
  const std::shared_ptr<const policies::CompiledPolicies> policies = store_->Current();
  ASSIGN_OR_RETURN(policies::ScanResult scan, policies->Scan(SetsFor(app, direction), direction, text));
  TextVerdict verdict;
  ASSIGN_OR_RETURN(verdict.decision, Classify(*pipeline_, app, direction, text, std::move(scan.matches),
                                              scan.block_message, policy_text, deadline, judged));
  if (judged.has_value()) ApplyJudgement(app, direction, *judged, &verdict);
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

absl::StatusOr<std::unique_ptr<StreamChecks>> PipelineChecks::StartOutputStream(const v1::App& app,
                                                                                absl::Time deadline) const {
  ASSIGN_OR_RETURN(auto scanner,
                   policies::StreamScanner::Create(store_->Current(), SetsFor(app, v1::OUTPUT), v1::OUTPUT));
  return std::unique_ptr<StreamChecks>(new PipelineStreamChecks(std::move(scanner), pipeline_, app, deadline));
}

}  // namespace warden::gateway
