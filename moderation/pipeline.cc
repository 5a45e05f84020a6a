#include "moderation/pipeline.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "moderation/long_text.h"

namespace warden::moderation {
namespace pipeline_internal {

using warden::v1::Action;
using warden::v1::Decision;
using warden::v1::ModerationSettings;
using warden::v1::Stage;

constexpr float kLlmFallbackThreshold = 0.5f;

// Per-category settings resolved from ModerationSettings (see pipeline.h, rule 3).
struct Resolved {
  std::array<float, kNumCategories> explicit_threshold{};  // 0 = not set
  std::array<Action, kNumCategories> action{};
  std::array<bool, kNumCategories> escalate{};
};

absl::StatusOr<Resolved> Resolve(const ModerationSettings& settings) {
  Resolved r;
  const Action default_action = settings.default_action() == warden::v1::ACTION_UNSPECIFIED
                                    ? warden::v1::FLAG
                                    : settings.default_action();
  if (settings.default_threshold() < 0 || settings.default_threshold() > 1) {
    return absl::InvalidArgumentError("ModerationSettings.default_threshold outside [0, 1]");
  }
  if (const absl::Status windows = ValidateWindowWords(settings.long_text_window_words()); !windows.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ModerationSettings.", windows.message()));
  }
  r.explicit_threshold.fill(settings.default_threshold());
  r.action.fill(default_action);
  for (const auto& setting : settings.categories()) {
    const int c = CategoryIndex(setting.category());
    if (c < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ModerationSettings.categories: ",
                       warden::v1::Category_Name(setting.category()),
                       " is not a classifier category"));
    }
    if (setting.threshold() < 0 || setting.threshold() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ModerationSettings.categories[", std::string(CategoryName(setting.category())),
          "].threshold outside [0, 1]"));
    }
    if (setting.threshold() > 0) r.explicit_threshold[c] = setting.threshold();
    if (setting.action() != warden::v1::ACTION_UNSPECIFIED) r.action[c] = setting.action();
    r.escalate[c] = setting.escalate_to_llm();
  }
  for (Action& action : r.action) {
    if (action == warden::v1::REDACT) action = warden::v1::BLOCK;
  }
  return r;
}

// The pipeline's running state for one text.
class Run {
 public:
  Run(const Resolved& resolved, const PipelineOptions& options)
      : resolved_(resolved), options_(options) {}

  // Rule 1; true when a policy BLOCK ends the pipeline.
  bool ApplyPolicyFindings() {
    for (const auto& rule : options_.policy_findings) {
      *decision_.add_rules() = rule;
      if (!rule.shadow()) Raise(rule.action(), warden::v1::POLICY_FILTER,
                                absl::StrCat("blocked by policy rule ", rule.rule_id()));
    }
    last_stage_ = warden::v1::POLICY_FILTER;
    return decision_.action() == warden::v1::BLOCK;
  }

  void SetScore(int c, float score, float threshold, Stage stage) {
    scores_[c] = {score, threshold, stage};
    last_stage_ = stage;
  }

  // Applies the actions of flagged categories; true when one of `categories` blocks.
  bool ApplyFlags(const std::array<bool, kNumCategories>& categories) {
    bool blocked = false;
    for (int c = 0; c < kNumCategories; ++c) {
      const ScoreState& s = scores_[c];
      if (!categories[c] || !s.set || s.score < s.threshold) continue;
      Raise(resolved_.action[c], s.stage,
            absl::StrFormat("blocked: %s score %.2f >= %.2f",
                            std::string(CategoryName(kCategories[c])), s.score, s.threshold));
      blocked |= resolved_.action[c] == warden::v1::BLOCK;
    }
    return blocked;
  }

  // Rule 5.
  void Fail(const absl::Status& status) {
    if (options_.fail_open) {
      decision_.set_fail_open(true);
      // Nothing found so far: the fail-open rule is what let the text pass.
      if (decision_.decided_by() == warden::v1::STAGE_UNSPECIFIED) {
        decision_.set_decided_by(warden::v1::FAILURE);
      }
      return;
    }
    decision_.set_action(warden::v1::BLOCK);
    decision_.set_decided_by(warden::v1::FAILURE);
    decision_.set_message(absl::StrCat("moderation check failed (",
                                       absl::StatusCodeToString(status.code()), ")"));
    failed_closed_ = true;
  }

  Decision Finish() {
    for (int c = 0; c < kNumCategories; ++c) {
      const ScoreState& s = scores_[c];
      if (!s.set) continue;
      auto* score = decision_.add_scores();
      score->set_category(kCategories[c]);
      score->set_score(s.score);
      score->set_flagged(s.score >= s.threshold);
      score->set_stage(s.stage);
    }
    if (decision_.action() == warden::v1::ACTION_UNSPECIFIED) {
      decision_.set_action(warden::v1::ALLOW);
    }
    if (decision_.decided_by() == warden::v1::STAGE_UNSPECIFIED) {
      decision_.set_decided_by(last_stage_);
    }
    if (decision_.action() != warden::v1::BLOCK) decision_.clear_message();
    return std::move(decision_);
  }

 private:
  struct ScoreState {
    float score = 0, threshold = 1;
    Stage stage = warden::v1::STAGE_UNSPECIFIED;
    bool set = false;
    ScoreState() = default;
    ScoreState(float sc, float th, Stage st) : score(sc), threshold(th), stage(st), set(true) {}
  };

  void Raise(Action action, Stage stage, std::string message) {
    if (failed_closed_ || action <= decision_.action()) return;
    decision_.set_action(action);
    decision_.set_decided_by(stage);
    decision_.set_message(std::move(message));
  }

  const Resolved& resolved_;
  const PipelineOptions& options_;
  Decision decision_;
  std::array<ScoreState, kNumCategories> scores_{};
  Stage last_stage_ = warden::v1::STAGE_UNSPECIFIED;
  bool failed_closed_ = false;
};

}  // namespace pipeline_internal

namespace {

using pipeline_internal::kLlmFallbackThreshold;
using pipeline_internal::Resolve;
using pipeline_internal::Resolved;
using pipeline_internal::Run;
using warden::v1::Decision;
using warden::v1::ModerationSettings;

bool OverBudget(absl::Duration elapsed, uint32_t budget_ms) {
  return budget_ms > 0 && elapsed > absl::Milliseconds(budget_ms);
}

}  // namespace

Pipeline::Pipeline(std::shared_ptr<const Classifier> fast,
                   const std::array<float, kNumCategories>& fast_thresholds,
                   std::shared_ptr<const PolicyJudge> judge, Clock clock)
    : fast_(std::move(fast)),
      fast_thresholds_(fast_thresholds),
      judge_(std::move(judge)),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })) {}

absl::Duration LlmBudgetPerText(const warden::v1::ModerationSettings& settings) {
  const uint32_t budget_ms = settings.llm_classifier_budget_ms();
  return budget_ms == 0 ? kDefaultLlmBudgetPerText : absl::Milliseconds(budget_ms);
}

Deadline LlmBatchDeadline(const warden::v1::ModerationSettings& settings, absl::Time start, int64_t texts,
                          const Deadline& caller_deadline) {
  return caller_deadline.AtMost(start + LlmBudgetPerText(settings) * texts);
}

absl::StatusOr<Decision> Pipeline::Moderate(std::string_view text,
                                            const ModerationSettings& settings,
                                            const PipelineOptions& options) const {
  const std::string_view texts[] = {text};
  return std::move(ModerateMany(texts, settings, absl::MakeConstSpan(&options, 1)).front());
}

bool Pipeline::RunFastStage(std::string_view text, const ModerationSettings& settings,
                            const Resolved& resolved, Run& run, Categories* escalate) const {
  if (run.ApplyPolicyFindings() || settings.disabled() || fast_ == nullptr) return false;

  // Fast classifier (rule 3).
  const absl::Time fast_start = clock_();
  // The whole text, and its windows when the settings ask for them (validated by Resolve);
  // the budget is checked between batches of windows, so a long text stops early.
  const auto within_budget = [&]() -> absl::Status {
    return OverBudget(clock_() - fast_start, settings.fast_classifier_budget_ms())
               ? absl::DeadlineExceededError("fast classifier over budget")
               : absl::OkStatus();
  };
  absl::StatusOr<CategoryScores> fast =
      ScoreWithWindows(*fast_, text, static_cast<int>(settings.long_text_window_words()), within_budget);
  if (fast.ok()) {
    // A broken model's NaN would pass every comparison the wrong way: a failed check.
    for (int c = 0; c < kNumCategories; ++c) {
      if (!std::isfinite(fast->scores[c])) {
        fast = absl::InternalError(absl::StrCat("fast classifier scored ", std::string(CategoryName(kCategories[c])),
                                                " as ", fast->scores[c]));
        break;
      }
    }
  }
  if (!fast.ok()) {
    run.Fail(fast.status());
    return false;
  }
  const bool band = settings.uncertain_high() > settings.uncertain_low();
  Categories not_escalated{};
  for (int c = 0; c < kNumCategories; ++c) {
    const float score = std::clamp(fast->scores[c], 0.0f, 1.0f);
    const float threshold = resolved.explicit_threshold[c] > 0 ? resolved.explicit_threshold[c]
                                                               : fast_thresholds_[c];
    run.SetScore(c, score, threshold, warden::v1::FAST_CLASSIFIER);
    (*escalate)[c] = resolved.escalate[c] ||
                     (band && score >= settings.uncertain_low() && score < settings.uncertain_high());
    not_escalated[c] = !(*escalate)[c];
  }
  const bool any_escalated = std::find(escalate->begin(), escalate->end(), true) != escalate->end();
  const bool llm_available = judge_ != nullptr && !settings.llm_policy().empty();
  if (!llm_available || !any_escalated) {
    Categories all;
    all.fill(true);
    run.ApplyFlags(all);
    return false;
  }
  return !run.ApplyFlags(not_escalated);
}

std::vector<absl::StatusOr<float>> Pipeline::JudgeTogether(const ModerationSettings& settings,
                                                           absl::Span<const std::string> texts,
                                                           const Deadline& caller_deadline) const {
  if (texts.empty()) return {};
  const absl::Time llm_start = clock_();
  const int64_t count = static_cast<int64_t>(texts.size());
  const Deadline deadline = LlmBatchDeadline(settings, llm_start, count, caller_deadline);
  std::vector<absl::StatusOr<float>> violations = JudgeEach(*judge_, settings.llm_policy(), texts, deadline);
  if (clock_() - llm_start > LlmBudgetPerText(settings) * count) {
    for (auto& violation : violations) {
      if (violation.ok()) violation = absl::DeadlineExceededError("LLM classifier over budget");
    }
  }
  return violations;
}

void Pipeline::ApplyLlmStage(const Resolved& resolved, const Categories& escalate,
                             const absl::StatusOr<float>& violation, Run& run) const {
  if (!violation.ok()) {
    run.ApplyFlags(escalate);  // fail open keeps the fast verdicts of escalated categories
    run.Fail(violation.status());
    return;
  }
  for (int c = 0; c < kNumCategories; ++c) {
    if (!escalate[c]) continue;
    const float threshold = resolved.explicit_threshold[c] > 0 ? resolved.explicit_threshold[c]
                                                               : kLlmFallbackThreshold;
    run.SetScore(c, std::clamp(violation.value(), 0.0f, 1.0f), threshold, warden::v1::LLM_CLASSIFIER);
  }
  run.ApplyFlags(escalate);
}

std::vector<absl::StatusOr<Decision>> Pipeline::ModerateMany(absl::Span<const std::string_view> texts,
                                                             const ModerationSettings& settings,
                                                             absl::Span<const PipelineOptions> options) const {
  if (options.size() != texts.size()) {
    return std::vector<absl::StatusOr<Decision>>(
        texts.size(), absl::InvalidArgumentError("ModerateMany: one PipelineOptions per text is required"));
  }
  const absl::StatusOr<Resolved> resolved = Resolve(settings);
  if (!resolved.ok()) return std::vector<absl::StatusOr<Decision>>(texts.size(), resolved.status());

  // Every text through the policy findings and the fast classifier; those whose LLM stage
  // runs are judged together afterwards.
  std::vector<Run> runs;
  runs.reserve(texts.size());
  std::vector<Categories> escalate(texts.size());
  std::vector<bool> needs_llm(texts.size());
  std::vector<size_t> to_judge;
  std::vector<std::string> judged_texts;
  std::vector<Deadline> caller_deadlines;
  for (size_t i = 0; i < texts.size(); ++i) {
    runs.emplace_back(*resolved, options[i]);
    needs_llm[i] = RunFastStage(texts[i], settings, *resolved, runs[i], &escalate[i]);
    if (needs_llm[i]) {
      to_judge.push_back(i);
      judged_texts.emplace_back(texts[i]);
      caller_deadlines.push_back(options[i].deadline);
    }
  }

  // LLM policy classifier (rule 4).
  const std::vector<absl::StatusOr<float>> verdicts =
      JudgeTogether(settings, judged_texts, Deadline::Earliest(std::move(caller_deadlines)));
  std::vector<const absl::StatusOr<float>*> violation(texts.size(), nullptr);
  for (size_t k = 0; k < to_judge.size(); ++k) violation[to_judge[k]] = &verdicts[k];
  std::vector<absl::StatusOr<Decision>> decisions;
  decisions.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (needs_llm[i]) ApplyLlmStage(*resolved, escalate[i], *violation[i], runs[i]);
    decisions.push_back(runs[i].Finish());
  }
  return decisions;
}

}  // namespace warden::moderation
