#include "moderation/pipeline.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

using warden::v1::Action;
using warden::v1::Category;
using warden::v1::Decision;
using warden::v1::ModerationSettings;

const int kViolence = CategoryIndex(warden::v1::VIOLENCE);
const int kHate = CategoryIndex(warden::v1::HATE);

// A fake clock advanced by the fakes to simulate slow stages.
struct FakeClock {
  absl::Time now = absl::UnixEpoch();
};

// Returns fixed scores (or an error); advances the clock by `cost`.
class FakeClassifier : public Classifier {
 public:
  FakeClassifier(CategoryScores scores, FakeClock* clock) : scores_(scores), clock_(clock) {}
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const override {
    calls_++;
    clock_->now += cost;
    if (!error.ok()) return error;
    return std::vector<CategoryScores>(texts.size(), scores_);
  }
  std::string name() const override { return "fake"; }
  absl::Status error = absl::OkStatus();
  absl::Duration cost = absl::Milliseconds(1);
  mutable std::atomic<int> calls_{0};

 private:
  CategoryScores scores_;
  FakeClock* clock_;
};

// Returns `probability` (or by_text's value for a text listed there, or an error); advances
// the clock by `cost` per text. Counts single calls and records the batched ones.
class FakeJudge : public PolicyJudge {
 public:
  FakeJudge(float probability, FakeClock* clock) : probability_(probability), clock_(clock) {}
  absl::StatusOr<float> ViolationProbability(std::string_view policy, std::string_view text,
                                             const Deadline& deadline) const override {
    calls_++;
    last_policy = std::string(policy);
    last_deadline = deadline.time();
    clock_->now += cost;
    if (!error.ok()) return error;
    const auto it = by_text.find(std::string(text));
    return it == by_text.end() ? probability_ : it->second;
  }
  std::vector<absl::StatusOr<float>> ViolationProbabilities(std::string_view policy,
                                                            absl::Span<const std::string> texts,
                                                            const Deadline& deadline) const override {
    batch_sizes.push_back(static_cast<int>(texts.size()));
    std::vector<absl::StatusOr<float>> out;
    for (const std::string& text : texts) out.push_back(ViolationProbability(policy, text, deadline));
    return out;
  }
  std::map<std::string, float> by_text;
  mutable std::vector<int> batch_sizes;
  absl::Status error = absl::OkStatus();
  absl::Duration cost = absl::Milliseconds(10);
  mutable std::atomic<int> calls_{0};
  mutable std::string last_policy;
  mutable absl::Time last_deadline;

 private:
  float probability_;
  FakeClock* clock_;
};

CategoryScores ScoresWith(int category, float score) {
  CategoryScores s;
  s.scores.fill(0.01f);
  s.scores[category] = score;
  return s;
}

std::array<float, kNumCategories> Thresholds(float t) {
  std::array<float, kNumCategories> out;
  out.fill(t);
  return out;
}

void SetCategory(ModerationSettings& settings, Category category, float threshold, Action action,
                 bool escalate = false) {
  auto* c = settings.add_categories();
  c->set_category(category);
  c->set_threshold(threshold);
  c->set_action(action);
  c->set_escalate_to_llm(escalate);
}

// Settings that escalate HATE (threshold 0.5, BLOCK) to the LLM policy "p" within
// `budget_ms` per text (0: no budget).
ModerationSettings HateEscalatedToP(uint32_t budget_ms = 0) {
  ModerationSettings settings;
  settings.set_llm_policy("p");
  settings.set_llm_classifier_budget_ms(budget_ms);
  SetCategory(settings, warden::v1::HATE, 0.5f, warden::v1::BLOCK, /*escalate=*/true);
  return settings;
}

const warden::v1::CategoryScore& ScoreOf(const Decision& d, Category category) {
  for (const auto& s : d.scores()) {
    if (s.category() == category) return s;
  }
  static const warden::v1::CategoryScore kMissing;
  return kMissing;
}

class PipelineTest : public testing::Test {
 protected:
  std::shared_ptr<FakeClassifier> Fast(int category, float score) {
    return std::make_shared<FakeClassifier>(ScoresWith(category, score), &clock_);
  }
  Pipeline Make(std::shared_ptr<FakeClassifier> fast, std::shared_ptr<FakeJudge> judge = nullptr,
                float model_threshold = 0.6f) {
    return Pipeline(fast, Thresholds(model_threshold), judge, [this] { return clock_.now; });
  }
  FakeClock clock_;
};

TEST_F(PipelineTest, AllowsBelowThresholdAndReportsEveryCategory) {
  const auto d = Make(Fast(kViolence, 0.3f)).Moderate("t", ModerationSettings(), {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->action(), warden::v1::ALLOW);
  EXPECT_EQ(d->decided_by(), warden::v1::FAST_CLASSIFIER);
  EXPECT_EQ(d->scores_size(), kNumCategories);
  EXPECT_FLOAT_EQ(ScoreOf(*d, warden::v1::VIOLENCE).score(), 0.3f);
  EXPECT_FALSE(ScoreOf(*d, warden::v1::VIOLENCE).flagged());
}

TEST_F(PipelineTest, ModelThresholdAndDefaultActionFlagWhenNothingIsConfigured) {
  const auto d = Make(Fast(kViolence, 0.65f), nullptr, 0.6f).Moderate("t", ModerationSettings(), {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->action(), warden::v1::FLAG);
  EXPECT_TRUE(ScoreOf(*d, warden::v1::VIOLENCE).flagged());
  EXPECT_EQ(d->decided_by(), warden::v1::FAST_CLASSIFIER);
}

TEST_F(PipelineTest, CategoryThresholdOverridesDefaultThresholdWhichOverridesModel) {
  ModerationSettings settings;
  settings.set_default_threshold(0.9f);
  settings.set_default_action(warden::v1::BLOCK);
  auto pipeline = Make(Fast(kViolence, 0.7f), nullptr, 0.6f);
  EXPECT_EQ(pipeline.Moderate("t", settings, {})->action(), warden::v1::ALLOW);
  SetCategory(settings, warden::v1::VIOLENCE, 0.5f, warden::v1::ACTION_UNSPECIFIED);
  const auto d = pipeline.Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_NE(d->message().find("violence"), std::string::npos);
}

TEST_F(PipelineTest, RedactIsEnforcedAsBlockForWholeTexts) {
  ModerationSettings settings;
  SetCategory(settings, warden::v1::HATE, 0.5f, warden::v1::REDACT);
  const auto d = Make(Fast(kHate, 0.8f)).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
}

TEST_F(PipelineTest, PolicyBlockExitsBeforeTheClassifiers) {
  auto fast = Fast(kViolence, 0.99f);
  PipelineOptions options;
  auto& rule = options.policy_findings.emplace_back();
  rule.set_rule_id("secrets.aws");
  rule.set_action(warden::v1::BLOCK);
  const auto d = Make(fast).Moderate("t", ModerationSettings(), options);
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::POLICY_FILTER);
  EXPECT_EQ(d->rules_size(), 1);
  EXPECT_EQ(d->scores_size(), 0);
  EXPECT_EQ(fast->calls_, 0);
}

TEST_F(PipelineTest, ShadowFindingsAreRecordedButNotEnforced) {
  PipelineOptions options;
  auto& rule = options.policy_findings.emplace_back();
  rule.set_action(warden::v1::BLOCK);
  rule.set_shadow(true);
  const auto d = Make(Fast(kViolence, 0.1f)).Moderate("t", ModerationSettings(), options);
  EXPECT_EQ(d->action(), warden::v1::ALLOW);
  EXPECT_EQ(d->rules_size(), 1);
}

TEST_F(PipelineTest, DisabledSkipsClassifiers) {
  auto fast = Fast(kViolence, 0.99f);
  ModerationSettings settings;
  settings.set_disabled(true);
  const auto d = Make(fast).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::ALLOW);
  EXPECT_EQ(fast->calls_, 0);
}

TEST_F(PipelineTest, FastBlockExitsWithoutCallingTheLlm) {
  auto judge = std::make_shared<FakeJudge>(0.0f, &clock_);
  ModerationSettings settings;
  settings.set_llm_policy("policy");
  SetCategory(settings, warden::v1::VIOLENCE, 0.5f, warden::v1::BLOCK);
  SetCategory(settings, warden::v1::HATE, 0.5f, warden::v1::BLOCK, /*escalate=*/true);
  const auto d = Make(Fast(kViolence, 0.9f), judge).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAST_CLASSIFIER);
  EXPECT_EQ(judge->calls_, 0);
}

TEST_F(PipelineTest, EscalatedCategoryTakesTheLlmVerdict) {
  auto judge = std::make_shared<FakeJudge>(0.95f, &clock_);
  ModerationSettings settings;
  settings.set_llm_policy("no hate");
  SetCategory(settings, warden::v1::HATE, 0.0f, warden::v1::BLOCK, /*escalate=*/true);
  const auto d = Make(Fast(kHate, 0.2f), judge).Moderate("t", settings, {});
  EXPECT_EQ(judge->calls_, 1);
  EXPECT_EQ(judge->last_policy, "no hate");
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::LLM_CLASSIFIER);
  EXPECT_EQ(ScoreOf(*d, warden::v1::HATE).stage(), warden::v1::LLM_CLASSIFIER);
  EXPECT_FLOAT_EQ(ScoreOf(*d, warden::v1::HATE).score(), 0.95f);
  EXPECT_EQ(ScoreOf(*d, warden::v1::VIOLENCE).stage(), warden::v1::FAST_CLASSIFIER);
}

TEST_F(PipelineTest, LlmCanClearAFastFlagOfAnEscalatedCategory) {
  auto judge = std::make_shared<FakeJudge>(0.05f, &clock_);
  ModerationSettings settings = HateEscalatedToP();
  const auto d = Make(Fast(kHate, 0.9f), judge).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::ALLOW);
  EXPECT_EQ(d->decided_by(), warden::v1::LLM_CLASSIFIER);
}

TEST_F(PipelineTest, UncertainBandEscalatesOnlyScoresInsideIt) {
  auto judge = std::make_shared<FakeJudge>(0.9f, &clock_);
  ModerationSettings settings;
  settings.set_llm_policy("p");
  settings.set_uncertain_low(0.4f);
  settings.set_uncertain_high(0.6f);
  settings.set_default_action(warden::v1::BLOCK);
  // 0.01 everywhere: outside the band, no LLM call.
  EXPECT_EQ(Make(Fast(kViolence, 0.01f), judge).Moderate("t", settings, {})->action(),
            warden::v1::ALLOW);
  EXPECT_EQ(judge->calls_, 0);
  const auto d = Make(Fast(kViolence, 0.5f), judge).Moderate("t", settings, {});
  EXPECT_EQ(judge->calls_, 1);
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(ScoreOf(*d, warden::v1::VIOLENCE).stage(), warden::v1::LLM_CLASSIFIER);
  EXPECT_EQ(ScoreOf(*d, warden::v1::HATE).stage(), warden::v1::FAST_CLASSIFIER);
}

TEST_F(PipelineTest, WithoutPolicyEscalatedCategoriesKeepFastScores) {
  auto judge = std::make_shared<FakeJudge>(0.9f, &clock_);
  ModerationSettings settings;
  SetCategory(settings, warden::v1::HATE, 0.5f, warden::v1::BLOCK, /*escalate=*/true);
  const auto d = Make(Fast(kHate, 0.7f), judge).Moderate("t", settings, {});
  EXPECT_EQ(judge->calls_, 0);
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAST_CLASSIFIER);
}

TEST_F(PipelineTest, FastErrorFailsClosedByDefault) {
  auto fast = Fast(kViolence, 0.1f);
  fast->error = absl::InternalError("boom");
  const auto d = Make(fast).Moderate("t", ModerationSettings(), {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
  EXPECT_FALSE(d->fail_open());
}

// A NaN score (a broken model) is a failed check, not a block with every score NaN and
// none flagged, nor a pass.
TEST_F(PipelineTest, NonFiniteFastScoreIsAFailedCheck) {
  for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
    auto fast = Fast(kViolence, bad);
    const auto closed = Make(fast).Moderate("t", ModerationSettings(), {});
    ASSERT_TRUE(closed.ok());
    EXPECT_EQ(closed->action(), warden::v1::BLOCK);
    EXPECT_EQ(closed->decided_by(), warden::v1::FAILURE);
    PipelineOptions options;
    options.fail_open = true;
    const auto open = Make(fast).Moderate("t", ModerationSettings(), options);
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(open->action(), warden::v1::ALLOW);
    EXPECT_TRUE(open->fail_open());
  }
}

TEST_F(PipelineTest, FastErrorPassesWhenFailOpen) {
  auto fast = Fast(kViolence, 0.1f);
  fast->error = absl::InternalError("boom");
  PipelineOptions options;
  options.fail_open = true;
  const auto d = Make(fast).Moderate("t", ModerationSettings(), options);
  EXPECT_EQ(d->action(), warden::v1::ALLOW);
  EXPECT_TRUE(d->fail_open());
  EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
}

TEST_F(PipelineTest, FastOverBudgetFailsClosed) {
  auto fast = Fast(kViolence, 0.1f);
  fast->cost = absl::Milliseconds(30);
  ModerationSettings settings;
  settings.set_fast_classifier_budget_ms(20);
  const auto d = Make(fast).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
  settings.set_fast_classifier_budget_ms(50);
  EXPECT_EQ(Make(fast).Moderate("t", settings, {})->action(), warden::v1::ALLOW);
}

// ~300 distinct windows of 64 words (more than four batches of 64): a text of 3,000 words in
// sentences of ten.
std::string LongDistinctText() {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "w" + std::to_string(i) + (i % 10 == 9 ? ". " : " ");
  return text;
}

TEST_F(PipelineTest, TheFastBudgetCoversTheWindowsAndStopsThemEarly) {
  auto fast = Fast(kViolence, 0.1f);
  fast->cost = absl::Milliseconds(10);  // per batch of texts
  ModerationSettings settings;
  settings.set_fast_classifier_budget_ms(25);
  const std::string text = LongDistinctText();
  EXPECT_EQ(Make(fast).Moderate(text, settings, {})->action(), warden::v1::ALLOW);  // whole: one call
  fast->calls_ = 0;
  settings.set_long_text_window_words(64);
  const auto d = Make(fast).Moderate(text, settings, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
  EXPECT_EQ(fast->calls_.load(), 3);  // 30 ms > 25 ms: no fourth batch
}

// Scores `value` for violence in every text but the whole one (the first of the first call).
class BrokenWindowsClassifier : public Classifier {
 public:
  explicit BrokenWindowsClassifier(float value) : value_(value) {}
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(absl::Span<const std::string_view> texts) const override {
    std::vector<CategoryScores> out(texts.size());
    for (size_t i = first_call_ ? 1 : 0; i < texts.size(); ++i) out[i].scores[kViolence] = value_;
    first_call_ = false;
    return out;
  }
  std::string name() const override { return "broken-windows"; }

 private:
  float value_;
  mutable bool first_call_ = true;
};

TEST_F(PipelineTest, ANonFiniteScoreInAWindowFailsClosed) {
  for (const float broken : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    ModerationSettings settings;
    settings.set_long_text_window_words(64);
    const Pipeline pipeline(std::make_shared<BrokenWindowsClassifier>(broken), Thresholds(0.6f));
    const auto d = pipeline.Moderate(LongDistinctText(), settings, {});
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->action(), warden::v1::BLOCK) << broken;
    EXPECT_EQ(d->decided_by(), warden::v1::FAILURE) << broken;
  }
}

TEST_F(PipelineTest, LlmOverBudgetFailsClosedAndGetsTheDeadline) {
  auto judge = std::make_shared<FakeJudge>(0.0f, &clock_);
  judge->cost = absl::Milliseconds(300);
  ModerationSettings settings = HateEscalatedToP(/*budget_ms=*/200);
  const absl::Time start = clock_.now;
  const auto d = Make(Fast(kHate, 0.1f), judge).Moderate("t", settings, {});
  EXPECT_EQ(d->action(), warden::v1::BLOCK);
  EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
  // The fast stage costs 1 ms before the LLM stage starts.
  EXPECT_EQ(judge->last_deadline, start + absl::Milliseconds(1) + absl::Milliseconds(200));
}

TEST_F(PipelineTest, LlmStageStopsAtTheCallersDeadlineWhenItComesFirst) {
  auto judge = std::make_shared<FakeJudge>(0.0f, &clock_);
  ModerationSettings settings = HateEscalatedToP(/*budget_ms=*/200);
  PipelineOptions options;
  options.deadline = clock_.now + absl::Milliseconds(50);
  ASSERT_TRUE(Make(Fast(kHate, 0.1f), judge).Moderate("t", settings, options).ok());
  EXPECT_EQ(judge->last_deadline, options.deadline.time());
  options.deadline = clock_.now + absl::Hours(1);  // later than the budget: the budget wins
  const absl::Time start = clock_.now;
  ASSERT_TRUE(Make(Fast(kHate, 0.1f), judge).Moderate("t", settings, options).ok());
  EXPECT_EQ(judge->last_deadline, start + absl::Milliseconds(1) + absl::Milliseconds(200));
}

TEST_F(PipelineTest, LlmErrorWithFailOpenKeepsFastVerdicts) {
  auto judge = std::make_shared<FakeJudge>(0.0f, &clock_);
  judge->error = absl::UnavailableError("engine down");
  ModerationSettings settings;
  settings.set_llm_policy("p");
  SetCategory(settings, warden::v1::HATE, 0.5f, warden::v1::FLAG, /*escalate=*/true);
  PipelineOptions options;
  options.fail_open = true;
  const auto d = Make(Fast(kHate, 0.8f), judge).Moderate("t", settings, options);
  EXPECT_TRUE(d->fail_open());
  EXPECT_EQ(d->action(), warden::v1::FLAG);
}

TEST_F(PipelineTest, RejectsSettingsForNonClassifierCategoryOrBadThreshold) {
  ModerationSettings settings;
  SetCategory(settings, warden::v1::PII, 0.5f, warden::v1::BLOCK);
  EXPECT_EQ(Make(Fast(kHate, 0.1f)).Moderate("t", settings, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ModerationSettings bad_threshold;
  SetCategory(bad_threshold, warden::v1::HATE, 1.5f, warden::v1::BLOCK);
  EXPECT_EQ(Make(Fast(kHate, 0.1f)).Moderate("t", bad_threshold, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ModerateMany decides each text as Moderate would, but the texts whose LLM stage runs are
// judged in one batched call: not the one a policy rule blocked.
TEST_F(PipelineTest, ModerateManyJudgesTheEscalatedTextsInOneCall) {
  auto judge = std::make_shared<FakeJudge>(0.1f, &clock_);
  judge->by_text["bad"] = 0.9f;
  judge->by_text["also bad"] = 0.8f;
  ModerationSettings settings = HateEscalatedToP();
  const std::string_view texts[] = {"bad", "blocked by a rule", "also bad", "fine"};
  std::vector<PipelineOptions> options(4);
  options[1].policy_findings.emplace_back().set_action(warden::v1::BLOCK);
  const auto decisions = Make(Fast(kHate, 0.2f), judge).ModerateMany(texts, settings, options);
  ASSERT_EQ(decisions.size(), 4u);
  for (const auto& d : decisions) ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(judge->batch_sizes, std::vector<int>({3}));
  EXPECT_EQ(judge->calls_, 3);
  EXPECT_EQ(decisions[0]->action(), warden::v1::BLOCK);
  EXPECT_EQ(decisions[0]->decided_by(), warden::v1::LLM_CLASSIFIER);
  EXPECT_FLOAT_EQ(ScoreOf(*decisions[0], warden::v1::HATE).score(), 0.9f);
  EXPECT_EQ(decisions[1]->decided_by(), warden::v1::POLICY_FILTER);
  EXPECT_EQ(decisions[1]->scores_size(), 0);
  EXPECT_EQ(decisions[2]->action(), warden::v1::BLOCK);
  EXPECT_FLOAT_EQ(ScoreOf(*decisions[2], warden::v1::HATE).score(), 0.8f);
  EXPECT_EQ(decisions[3]->action(), warden::v1::ALLOW);
  EXPECT_FLOAT_EQ(ScoreOf(*decisions[3], warden::v1::HATE).score(), 0.1f);
  // Each decision is the one Moderate gives the text alone.
  for (size_t i = 0; i < 4; ++i) {
    const auto alone = Make(Fast(kHate, 0.2f), judge).Moderate(texts[i], settings, options[i]);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ(alone->SerializeAsString(), decisions[i]->SerializeAsString()) << i;
  }
}

// The batched call's budget is the per-text budget times the texts it judges; spending
// more fails every judged text (closed here), and the earliest caller deadline bounds it.
TEST_F(PipelineTest, ModerateManyBudgetIsPerTextTimesTheTextsJudged) {
  auto judge = std::make_shared<FakeJudge>(0.0f, &clock_);
  judge->cost = absl::Milliseconds(150);
  ModerationSettings settings = HateEscalatedToP(/*budget_ms=*/200);
  const std::string_view texts[] = {"a", "b", "c"};
  std::vector<PipelineOptions> options(3);
  absl::Time start = clock_.now;
  auto decisions = Make(Fast(kHate, 0.1f), judge).ModerateMany(texts, settings, options);
  // Three fast stages of 1 ms each, then 3 x 200 ms for the batch (450 ms spent: within).
  EXPECT_EQ(judge->last_deadline, start + absl::Milliseconds(3) + absl::Milliseconds(600));
  for (const auto& d : decisions) EXPECT_EQ(d->action(), warden::v1::ALLOW);

  judge->cost = absl::Milliseconds(250);  // 750 ms for three texts: over 600
  decisions = Make(Fast(kHate, 0.1f), judge).ModerateMany(texts, settings, options);
  for (const auto& d : decisions) {
    EXPECT_EQ(d->action(), warden::v1::BLOCK);
    EXPECT_EQ(d->decided_by(), warden::v1::FAILURE);
  }

  options[1].deadline = clock_.now + absl::Milliseconds(100);
  options[2].deadline = clock_.now + absl::Milliseconds(300);
  decisions = Make(Fast(kHate, 0.1f), judge).ModerateMany(texts, settings, options);
  EXPECT_EQ(judge->last_deadline, options[1].deadline.time());
}

TEST_F(PipelineTest, ModerateManyNeedsOneOptionsPerText) {
  const std::string_view texts[] = {"a", "b"};
  const std::vector<PipelineOptions> options(1);
  const auto decisions = Make(Fast(kHate, 0.1f)).ModerateMany(texts, ModerationSettings(), options);
  ASSERT_EQ(decisions.size(), 2u);
  for (const auto& d : decisions) EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Make(Fast(kHate, 0.1f)).ModerateMany({}, ModerationSettings(), {}).empty());
}

}  // namespace
}  // namespace warden::moderation

namespace warden::moderation {
namespace {

// Dilutes as the fast classifier does: violence is the share of a text's words that are
// "KILL" or "KILL.".
class ShareOfKillClassifier : public Classifier {
 public:
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(absl::Span<const std::string_view> texts) const override {
    std::vector<CategoryScores> out(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      int words = 0, kills = 0;
      std::string word;
      for (size_t k = 0; k <= texts[i].size(); ++k) {
        if (k < texts[i].size() && texts[i][k] != ' ') {
          word += texts[i][k];
          continue;
        }
        if (word.empty()) continue;
        ++words;
        kills += word == "KILL" || word == "KILL.";
        word.clear();
      }
      out[i].scores[kViolence] = words == 0 ? 0.0f : static_cast<float>(kills) / words;
    }
    return out;
  }
  std::string name() const override { return "share-of-kill"; }
};

TEST(PipelineLongText, WindowsFindAHarmfulSentenceInsideLongNeutralText) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "The weather was calm and the lake was quiet all day. ";
  text += "I KILL KILL KILL. ";
  for (int i = 0; i < 10; ++i) text += "We walked home along the shore before the evening. ";
  const Pipeline pipeline(std::make_shared<ShareOfKillClassifier>(), Thresholds(0.6f));
  ModerationSettings settings;
  SetCategory(settings, warden::v1::VIOLENCE, 0.5f, warden::v1::BLOCK);

  const auto whole = pipeline.Moderate(text, settings, {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->action(), warden::v1::ALLOW);
  EXPECT_LT(ScoreOf(*whole, warden::v1::VIOLENCE).score(), 0.05f);

  settings.set_long_text_window_words(64);
  const auto windowed = pipeline.Moderate(text, settings, {});
  ASSERT_TRUE(windowed.ok()) << windowed.status();
  EXPECT_EQ(windowed->action(), warden::v1::BLOCK);
  EXPECT_EQ(windowed->decided_by(), warden::v1::FAST_CLASSIFIER);
  EXPECT_FLOAT_EQ(ScoreOf(*windowed, warden::v1::VIOLENCE).score(), 0.75f);
  EXPECT_TRUE(ScoreOf(*windowed, warden::v1::VIOLENCE).flagged());
}

TEST(PipelineLongText, AWindowSizeOutOfBoundsIsInvalidArgument) {
  const Pipeline pipeline(std::make_shared<ShareOfKillClassifier>(), Thresholds(0.6f));
  for (const uint32_t words : {1u, 15u, 4097u}) {
    ModerationSettings settings;
    settings.set_long_text_window_words(words);
    const auto d = pipeline.Moderate("t", settings, {});
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << words;
    EXPECT_NE(d.status().message().find("long_text_window_words"), absl::string_view::npos) << d.status();
  }
}

}  // namespace
}  // namespace warden::moderation
