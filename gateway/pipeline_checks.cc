#include "gateway/pipeline_checks.h"

#include <algorithm>
#include <vector>

#include "base/status_macros.h"
#include "gateway/decisions.h"
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

// The pipeline's options for one text of `app`'s call, given the policy findings.
moderation::PipelineOptions OptionsFor(const v1::App& app, std::vector<v1::RuleMatch> findings,
                                       const Deadline& deadline) {
  moderation::PipelineOptions options;
  options.policy_findings = std::move(findings);
  options.fail_open = app.check_failure() == v1::FAIL_OPEN;
  options.deadline = deadline;
  return options;
}

// A rule's own block message replaces the pipeline's when a rule decided.
void KeepRuleMessage(const std::string& block_message, v1::Decision* decision) {
  if (decision->action() == v1::BLOCK && decision->decided_by() == v1::POLICY_FILTER && !block_message.empty()) {
    decision->set_message(block_message);
  }
}

// Runs the moderation pipeline on one text of an output stream given its policy findings.
absl::StatusOr<v1::Decision> Classify(const moderation::Pipeline& pipeline, const v1::App& app, std::string_view text,
                                      std::vector<v1::RuleMatch> findings, const std::string& block_message,
                                      const Deadline& deadline) {
  ASSIGN_OR_RETURN(v1::Decision decision,
                   pipeline.Moderate(text, SettingsFor(app, v1::OUTPUT), OptionsFor(app, std::move(findings), deadline)));
  KeepRuleMessage(block_message, &decision);
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
  const v1::Action configured =
      settings.default_action() == v1::ACTION_UNSPECIFIED ? v1::FLAG : settings.default_action();
  // A whole text cannot be redacted: REDACT blocks it. Compared as enforced, so a text a
  // rule has redacted is still blocked.
  const v1::Action action = configured == v1::REDACT ? v1::BLOCK : configured;
  if (policy_verdict.violation() && action > decision.action()) {
    decision.set_action(action);
    decision.set_decided_by(v1::LLM_CLASSIFIER);
    decision.set_message("the text violates the given policy");
  }
}

// Folds the latest classification of a stream's output so far into the decision on what
// it released before (see MergeDecision); the rules are the latest's, which holds every
// finding so far.
void FoldStreamDecision(v1::Decision latest, v1::Decision* total) {
  google::protobuf::RepeatedPtrField<v1::RuleMatch> rules;
  rules.Swap(latest.mutable_rules());
  MergeDecision(latest, /*text_index=*/0, total);
  total->mutable_rules()->Swap(&rules);
}

// The text a verdict passes on: nothing when blocked, the scan's redaction when redacted.
std::string PassedText(v1::Action action, std::string_view text, policies::ScanResult& scan) {
  switch (action) {
    case v1::BLOCK:
      return std::string();
    case v1::REDACT:
      return std::move(scan.redacted_text);
    default:
      return std::string(text);
  }
}

// Output stream: the policy StreamScanner holds back what a pattern could still match;
// what it releases waits again until the classifiers have re-read the whole output so far.
// With OutputDelivery::kWhole nothing is released before Finish, which checks the whole
// output at once (the scanner and the classifiers only watch for an early block).
class PipelineStreamChecks : public StreamChecks {
 public:
  PipelineStreamChecks(std::shared_ptr<const policies::CompiledPolicies> policies,
                       std::unique_ptr<policies::StreamScanner> scanner, const moderation::Pipeline* pipeline,
                       const v1::App& app, OutputDelivery delivery, const Deadline& deadline)
      : policies_(std::move(policies)),
        scanner_(std::move(scanner)),
        pipeline_(pipeline),
        app_(app),
        whole_(delivery == OutputDelivery::kWhole),
        deadline_(deadline) {
    decision_.set_action(v1::ALLOW);
  }

  absl::StatusOr<StreamStep> Push(std::string_view text) override {
    if (whole_) whole_text_.append(text);
    ASSIGN_OR_RETURN(policies::StreamUpdate update, scanner_->Push(text));
    ASSIGN_OR_RETURN(StreamStep step, Advance(std::move(update), /*final=*/false));
    if (whole_) step.released.clear();  // Held for the whole-text check.
    return step;
  }
  absl::StatusOr<StreamStep> Finish() override {
    if (whole_) return FinishWhole();
    ASSIGN_OR_RETURN(policies::StreamUpdate update, scanner_->Finish());
    return Advance(std::move(update), /*final=*/true);
  }
  const v1::Decision& decision() const override { return decision_; }

 private:
  // Classifies again once this much new text waits: every kClassifyEveryBytes when
  // streaming (text waits for it); when the output is checked whole at the end, only as the
  // output doubles, so a long output costs the classifiers linear, not quadratic, reading.
  size_t ClassifyAfterBytes() const {
    return whole_ ? std::max(kClassifyEveryBytes, cleared_.size() - pending_.size()) : kClassifyEveryBytes;
  }

  absl::StatusOr<StreamStep> Advance(policies::StreamUpdate update, bool final) {
    StreamStep step;
    for (auto& match : update.matches) findings_.push_back(std::move(match));
    if (!update.block_message.empty()) block_message_ = update.block_message;
    pending_ += update.released;
    cleared_ += update.released;
    const bool blocked_by_rule = update.action == v1::BLOCK;
    const bool classifiers_off = app_.output_moderation().disabled();
    if (!blocked_by_rule && !final && !classifiers_off && pending_.size() < ClassifyAfterBytes()) return step;
    // Classify everything so far (released + pending) together with the rule findings.
    ASSIGN_OR_RETURN(v1::Decision latest,
                     Classify(*pipeline_, app_, cleared_, findings_, block_message_, deadline_));
    if (whole_) {
      decision_ = std::move(latest);  // Only an early block; Finish decides on the whole.
    } else {
      // Text released on an earlier classification's decision stays decided so: a FLAG, a
      // fail-open pass or a category's score is not undone by later text diluting it.
      FoldStreamDecision(std::move(latest), &decision_);
    }
    if (blocked_by_rule || decision_.action() == v1::BLOCK) {
      step.blocked = true;
      pending_.clear();
      return step;
    }
    step.released = std::move(pending_);
    pending_.clear();
    return step;
  }

  // The whole output through the policy filters (the stream's policies, whole-text scan)
  // and the classifiers, as Check() does it.
  absl::StatusOr<StreamStep> FinishWhole() {
    ASSIGN_OR_RETURN(policies::ScanResult scan, policies_->Scan(SetsFor(app_, v1::OUTPUT), v1::OUTPUT, whole_text_));
    ASSIGN_OR_RETURN(decision_, Classify(*pipeline_, app_, whole_text_, std::move(scan.matches), scan.block_message,
                                         deadline_));
    StreamStep step;
    step.blocked = decision_.action() == v1::BLOCK;
    step.released = PassedText(decision_.action(), whole_text_, scan);
    return step;
  }

  const std::shared_ptr<const policies::CompiledPolicies> policies_;  // The scanner's.
  std::unique_ptr<policies::StreamScanner> scanner_;
  const moderation::Pipeline* pipeline_;
  const v1::App& app_;
  const bool whole_;
  const Deadline deadline_;  // The call's; bounds the LLM stage of every classification.
  std::vector<v1::RuleMatch> findings_;
  std::string block_message_;
  // What the policy filters cleared (redacted where rules said so): released, then pending
  // (its last pending_.size() bytes), which waits for the classifiers.
  std::string cleared_;
  std::string pending_;
  std::string whole_text_;  // kWhole: every byte the model wrote.
  v1::Decision decision_;
};

}  // namespace

absl::StatusOr<TextVerdict> PipelineChecks::Check(const v1::App& app, v1::Direction direction, std::string_view text,
                                                  std::string_view policy_text, const Deadline& deadline) const {
  const std::string texts[] = {std::string(text)};
  return std::move(CheckMany(app, direction, texts, policy_text, deadline).front());
}

std::vector<absl::StatusOr<TextVerdict>> PipelineChecks::CheckMany(const v1::App& app, v1::Direction direction,
                                                                   absl::Span<const std::string> texts,
                                                                   std::string_view policy_text,
                                                                   const Deadline& deadline) const {
  std::vector<absl::StatusOr<float>> judged;
  if (!policy_text.empty()) judged = JudgeAll(app, direction, texts, policy_text, deadline);
  const std::shared_ptr<const policies::CompiledPolicies> policies = Policies();
  const std::vector<std::string> sets = SetsFor(app, direction);
  std::vector<absl::StatusOr<TextVerdict>> verdicts(texts.size(), absl::InternalError("text not checked"));
  // The texts whose policy filters ran go through the pipeline together (its LLM stage
  // judges them in one call).
  std::vector<size_t> scanned;
  std::vector<policies::ScanResult> scans;
  std::vector<std::string_view> views;
  std::vector<moderation::PipelineOptions> options;
  for (size_t i = 0; i < texts.size(); ++i) {
    // Without a model there is no judge: a request's policy cannot be applied at all.
    if (!judged.empty() && judged[i].status().code() == absl::StatusCode::kUnimplemented) {
      verdicts[i] = judged[i].status();
      continue;
    }
    absl::StatusOr<policies::ScanResult> scan = policies->Scan(sets, direction, texts[i]);
    if (!scan.ok()) {
      verdicts[i] = scan.status();
      continue;
    }
    options.push_back(OptionsFor(app, std::move(scan->matches), deadline));
    scans.push_back(*std::move(scan));
    views.push_back(texts[i]);
    scanned.push_back(i);
  }
  // The app's own settings, its LLM policy included: a policy given with the request is
  // judged in addition (ApplyJudgement can only make a decision stricter), never instead,
  // so a caller cannot replace the verdicts its operators configured.
  std::vector<absl::StatusOr<v1::Decision>> decisions = pipeline_->ModerateMany(views, SettingsFor(app, direction), options);
  for (size_t k = 0; k < scanned.size(); ++k) {
    const size_t i = scanned[k];
    if (!decisions[k].ok()) {
      verdicts[i] = decisions[k].status();
      continue;
    }
    TextVerdict verdict;
    verdict.decision = *std::move(decisions[k]);
    KeepRuleMessage(scans[k].block_message, &verdict.decision);
    if (!judged.empty()) ApplyJudgement(app, direction, judged[i], &verdict);
    verdict.text = PassedText(verdict.decision.action(), texts[i], scans[k]);
    verdicts[i] = std::move(verdict);
  }
  return verdicts;
}

std::vector<absl::StatusOr<float>> PipelineChecks::JudgeAll(const v1::App& app, v1::Direction direction,
                                                            absl::Span<const std::string> texts,
                                                            std::string_view policy_text,
                                                            const Deadline& call_deadline) const {
  if (judge_ == nullptr) {
    return std::vector<absl::StatusOr<float>>(
        texts.size(),
        absl::UnimplementedError("no model is loaded, so there is no LLM policy classifier for the policy"));
  }
  // A client that stops waiting must not leave a long policy prefilling.
  const int64_t count = static_cast<int64_t>(std::max<size_t>(texts.size(), 1));
  const Deadline deadline =
      moderation::LlmBatchDeadline(SettingsFor(app, direction), absl::Now(), count, call_deadline);
  return moderation::JudgeEach(*judge_, policy_text, texts, deadline);
}

std::shared_ptr<const TextChecks> PipelineChecks::ForCall() const {
  auto pinned = std::make_shared<PipelineChecks>(store_, pipeline_, judge_, classifier_name_);
  pinned->pinned_ = Policies();
  return pinned;
}

absl::StatusOr<std::unique_ptr<StreamChecks>> PipelineChecks::StartOutputStream(const v1::App& app,
                                                                                OutputDelivery delivery,
                                                                                const Deadline& deadline) const {
  std::shared_ptr<const policies::CompiledPolicies> policies = Policies();
  ASSIGN_OR_RETURN(auto scanner, policies::StreamScanner::Create(policies, SetsFor(app, v1::OUTPUT), v1::OUTPUT));
  return std::unique_ptr<StreamChecks>(
      new PipelineStreamChecks(std::move(policies), std::move(scanner), pipeline_, app, delivery, deadline));
}

}  // namespace warden::gateway
