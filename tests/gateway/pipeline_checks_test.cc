// PipelineChecks' LLM policy judgement: the deadline the judge gets is the earlier of the
// call's and the app's LLM budget, a judge that runs out of time fails closed, and a batch
// of texts is judged in one call.
#include "gateway/pipeline_checks.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moderation/classifier.h"
#include "moderation/pipeline.h"
#include "moderation/policy_judge.h"
#include "policies/policy_loader.h"
#include "policies/policy_store.h"

namespace warden::gateway {
namespace {

// Scores every text 0 in every category.
class ZeroClassifier : public moderation::Classifier {
 public:
  absl::StatusOr<std::vector<moderation::CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const override {
    return std::vector<moderation::CategoryScores>(texts.size());
  }
  std::string name() const override { return "zero"; }
};

// Scores every text 0 and counts the bytes it was given.
class CountingClassifier : public moderation::Classifier {
 public:
  absl::StatusOr<std::vector<moderation::CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const override {
    ++calls;
    for (std::string_view text : texts) bytes += text.size();
    return std::vector<moderation::CategoryScores>(texts.size());
  }
  std::string name() const override { return "counting"; }
  mutable size_t calls = 0;
  mutable size_t bytes = 0;
};

// Records the deadline it is given; its error when it has been reached (time or cancel).
class RecordingJudge : public moderation::PolicyJudge {
 public:
  absl::StatusOr<float> ViolationProbability(std::string_view, std::string_view,
                                             const Deadline& deadline) const override {
    seen = deadline.time();
    if (deadline.Reached()) return deadline.ReachedError("judge");
    return 0.9f;
  }
  mutable absl::Time seen;
};

class PipelineChecksTest : public ::testing::Test {
 protected:
  // Scores every text 0, so only an escalated category's LLM verdict can flag it
  // (thresholds 0.5); `judge` is its LLM stage.
  static moderation::Pipeline ZeroScoresPipeline(std::shared_ptr<moderation::PolicyJudge> judge) {
    std::array<float, moderation::kNumCategories> thresholds;
    thresholds.fill(0.5f);
    return moderation::Pipeline(std::make_shared<ZeroClassifier>(), thresholds, std::move(judge));
  }
  static void EscalateViolence(v1::ModerationSettings* settings) {
    auto* category = settings->add_categories();
    category->set_category(v1::VIOLENCE);
    category->set_escalate_to_llm(true);
  }
  // The app's input settings: its own LLM policy, violence escalated to it.
  void EscalateViolenceToTheAppsPolicy() {
    auto* input = app_.mutable_input_moderation();
    input->set_llm_policy("the app's policy");
    EscalateViolence(input);
  }

  void SetUp() override {
    auto policies = policies::LoadPolicyTexts({{"p.textproto", R"(id: "s" rules { id: "r" category: PII action: FLAG
                                                                    regex { pattern: "zzz" } })"}});
    ASSERT_TRUE(policies.ok()) << policies.status();
    store_ = std::make_unique<policies::PolicyStore>(*policies, std::vector<std::string>{});
    std::array<float, moderation::kNumCategories> thresholds;
    thresholds.fill(0.5f);  // the zero scores flag nothing
    pipeline_ = std::make_unique<moderation::Pipeline>(std::make_shared<ZeroClassifier>(), thresholds);
    checks_ = std::make_unique<PipelineChecks>(store_.get(), pipeline_.get(), &judge_, "zero");
    app_.set_id("a");
    app_.add_input_policy_sets("s");
    app_.mutable_input_moderation()->set_default_action(v1::BLOCK);
  }

  RecordingJudge judge_;
  std::unique_ptr<policies::PolicyStore> store_;
  std::unique_ptr<moderation::Pipeline> pipeline_;
  std::unique_ptr<PipelineChecks> checks_;
  v1::App app_;
};

TEST_F(PipelineChecksTest, JudgeGetsTheCallDeadlineWhenThereIsNoBudget) {
  const absl::Time call_deadline = absl::Now() + absl::Seconds(30);
  auto verdict = checks_->Check(app_, v1::INPUT, "text", "a policy", call_deadline);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(judge_.seen, call_deadline);
  EXPECT_EQ(verdict->decision.action(), v1::BLOCK);  // 0.9 violates; the default action applies
  EXPECT_EQ(verdict->decision.decided_by(), v1::LLM_CLASSIFIER);
}

// A client without a deadline (or one that has gone) cannot hold the engine for ever: the
// judge still gets the default budget.
TEST_F(PipelineChecksTest, JudgeGetsTheDefaultBudgetWhenNeitherIsSet) {
  const absl::Time before = absl::Now();
  ASSERT_TRUE(checks_->Check(app_, v1::INPUT, "text", "a policy", absl::InfiniteFuture()).ok());
  EXPECT_GE(judge_.seen, before + moderation::kDefaultLlmBudgetPerText);
  EXPECT_LE(judge_.seen, absl::Now() + moderation::kDefaultLlmBudgetPerText);
}

TEST_F(PipelineChecksTest, JudgeGetsTheEarlierOfBudgetAndCallDeadline) {
  app_.mutable_input_moderation()->set_llm_classifier_budget_ms(2000);
  const absl::Time before = absl::Now();
  ASSERT_TRUE(checks_->Check(app_, v1::INPUT, "text", "a policy", before + absl::Hours(1)).ok());
  EXPECT_GE(judge_.seen, before + absl::Milliseconds(2000));
  EXPECT_LE(judge_.seen, absl::Now() + absl::Milliseconds(2000));
  const absl::Time soon = absl::Now() + absl::Milliseconds(500);
  ASSERT_TRUE(checks_->Check(app_, v1::INPUT, "text", "a policy", soon).ok());
  EXPECT_EQ(judge_.seen, soon);
}

// A call's checks keep the policies in force when it started: a reload during the call
// changes neither its verdicts nor the version its record names.
TEST_F(PipelineChecksTest, ACallKeepsThePoliciesItStartedWith) {
  const std::shared_ptr<const TextChecks> call = checks_->ForCall();
  const std::string old_version = call->policy_version();
  auto stricter = policies::LoadPolicyTexts({{"p.textproto", R"(id: "s" rules { id: "r" category: PII action: BLOCK
                                                                 regex { pattern: "zzz" } })"}});
  ASSERT_TRUE(stricter.ok()) << stricter.status();
  store_->Swap(*stricter);
  EXPECT_NE(checks_->policy_version(), old_version);
  EXPECT_EQ(call->policy_version(), old_version);
  auto pinned = call->Check(app_, v1::INPUT, "zzz");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->decision.action(), v1::FLAG);
  auto current = checks_->Check(app_, v1::INPUT, "zzz");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->decision.action(), v1::BLOCK);
  EXPECT_EQ(checks_->ForCall()->policy_version(), checks_->policy_version());
}

TEST_F(PipelineChecksTest, PassedCallDeadlineFailsClosed) {
  auto verdict = checks_->Check(app_, v1::INPUT, "text", "a policy", absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdict->decision.decided_by(), v1::FAILURE);
}

TEST_F(PipelineChecksTest, CancelledCallerStopsTheJudgeAndFailsClosed) {
  const Deadline client_gone(absl::InfiniteFuture(), [] { return true; });
  auto verdict = checks_->Check(app_, v1::INPUT, "text", "a policy", client_gone);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdict->decision.decided_by(), v1::FAILURE);
  EXPECT_NE(verdict->decision.message().find("cancelled"), std::string::npos) << verdict->decision.message();
  // The app's own LLM policy (an escalated category) likewise.
  auto judge = std::make_shared<RecordingJudge>();
  moderation::Pipeline escalating = ZeroScoresPipeline(judge);
  const PipelineChecks app_policy_checks(store_.get(), &escalating, nullptr, "zero");
  EscalateViolenceToTheAppsPolicy();
  auto escalated = app_policy_checks.Check(app_, v1::INPUT, "text", {}, client_gone);
  ASSERT_TRUE(escalated.ok()) << escalated.status();
  EXPECT_EQ(escalated->decision.action(), v1::BLOCK);
  EXPECT_EQ(escalated->decision.decided_by(), v1::FAILURE);
}

// Judges a text 0.9 when it contains "bad", else 0.1 (0 for every text under a policy
// containing "lenient"), and fails one containing "broken"; counts single and batched
// calls, records the batch's deadline and the policies it was asked about.
class CountingJudge : public moderation::PolicyJudge {
 public:
  absl::StatusOr<float> ViolationProbability(std::string_view policy, std::string_view text,
                                             const Deadline&) const override {
    ++single_calls;
    policies.emplace_back(policy);
    return Judge(policy, text);
  }
  std::vector<absl::StatusOr<float>> ViolationProbabilities(std::string_view policy,
                                                            absl::Span<const std::string> texts,
                                                            const Deadline& deadline) const override {
    ++batch_calls;
    batch_deadline = deadline.time();
    policies.emplace_back(policy);
    std::vector<absl::StatusOr<float>> out;
    for (const std::string& text : texts) out.push_back(Judge(policy, text));
    return out;
  }
  mutable int single_calls = 0, batch_calls = 0;
  mutable absl::Time batch_deadline;
  mutable std::vector<std::string> policies;

 private:
  static absl::StatusOr<float> Judge(std::string_view policy, std::string_view text) {
    if (text.find("broken") != std::string_view::npos) return absl::InternalError("judge failed");
    if (policy.find("lenient") != std::string_view::npos) return 0.0f;
    return text.find("bad") != std::string_view::npos ? 0.9f : 0.1f;
  }
};

// A Moderate batch with a policy: one batched judgement, within the app's budget per text
// times the texts; each text gets its own verdict, and a failed judgement fails only its
// own text closed. An app without an LLM policy has no LLM stage of its own: its escalated
// category keeps the fast score.
TEST_F(PipelineChecksTest, TextsWithAPolicyAreJudgedTogetherEachByItsOwnVerdict) {
  auto judge = std::make_shared<CountingJudge>();
  moderation::Pipeline escalating = ZeroScoresPipeline(judge);
  PipelineChecks checks(store_.get(), &escalating, judge.get(), "zero");
  auto* input = app_.mutable_input_moderation();
  input->set_llm_classifier_budget_ms(1000);
  EscalateViolence(input);
  const std::vector<std::string> texts = {"a bad text", "a fine text", "a broken text"};
  const absl::Time before = absl::Now();
  const auto verdicts = checks.CheckMany(app_, v1::INPUT, texts, "a policy", before + absl::Hours(1));
  EXPECT_EQ(judge->batch_calls, 1);
  EXPECT_EQ(judge->single_calls, 0);
  EXPECT_GE(judge->batch_deadline, before + absl::Milliseconds(3000));
  EXPECT_LE(judge->batch_deadline, absl::Now() + absl::Milliseconds(3000));
  ASSERT_EQ(verdicts.size(), 3u);
  for (const auto& verdict : verdicts) ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdicts[0]->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdicts[0]->decision.decided_by(), v1::LLM_CLASSIFIER);
  ASSERT_TRUE(verdicts[0]->policy_verdict.has_value());
  EXPECT_FLOAT_EQ(verdicts[0]->policy_verdict->score(), 0.9f);
  EXPECT_EQ(verdicts[1]->decision.action(), v1::ALLOW);
  EXPECT_FLOAT_EQ(verdicts[1]->policy_verdict->score(), 0.1f);
  EXPECT_EQ(verdicts[1]->text, "a fine text");
  EXPECT_EQ(verdicts[2]->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdicts[2]->decision.decided_by(), v1::FAILURE);
  for (int i = 0; i < 2; ++i) {
    for (const auto& score : verdicts[i]->decision.scores()) {
      if (score.category() == v1::VIOLENCE) {
        EXPECT_FLOAT_EQ(score.score(), 0.0f) << i;
      }
    }
  }
  // One text through Check: the same single batched judgement.
  ASSERT_TRUE(checks.Check(app_, v1::INPUT, "bad", "a policy", absl::InfiniteFuture()).ok());
  EXPECT_EQ(judge->batch_calls, 2);
  EXPECT_EQ(judge->single_calls, 0);
}

// A policy sent with the request is judged in addition to the app's own, never instead of
// it: a lenient one ("nothing violates") cannot clear what the app's LLM policy flags.
TEST_F(PipelineChecksTest, RequestPolicyCannotReplaceTheAppsOwnPolicy) {
  auto judge = std::make_shared<CountingJudge>();
  moderation::Pipeline escalating = ZeroScoresPipeline(judge);
  PipelineChecks checks(store_.get(), &escalating, judge.get(), "zero");
  EscalateViolenceToTheAppsPolicy();
  const std::vector<std::string> texts = {"a bad text", "a fine text"};
  const auto verdicts = checks.CheckMany(app_, v1::INPUT, texts, "lenient: nothing violates", absl::InfiniteFuture());
  ASSERT_EQ(verdicts.size(), 2u);
  for (const auto& verdict : verdicts) ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdicts[0]->decision.action(), v1::BLOCK);  // the app's policy: 0.9
  EXPECT_EQ(verdicts[0]->decision.decided_by(), v1::LLM_CLASSIFIER);
  ASSERT_TRUE(verdicts[0]->policy_verdict.has_value());
  EXPECT_FALSE(verdicts[0]->policy_verdict->violation());  // the request's verdict, reported
  EXPECT_EQ(verdicts[1]->decision.action(), v1::ALLOW);
  EXPECT_EQ(judge->policies,
            (std::vector<std::string>{"lenient: nothing violates", "the app's policy"}));
}

// The app's own LLM policy (no policy in the request): the texts the pipeline escalates
// are judged in one batched call, except one a policy rule blocks first; each keeps its own
// verdict and a rule's own block message.
TEST_F(PipelineChecksTest, AppPolicyEscalationsOfABatchAreJudgedTogether) {
  auto policies = policies::LoadPolicyTexts({{"p.textproto", R"(id: "s" rules { id: "r" category: PII action: BLOCK
                                                                  block_message: "no zzz here" regex { pattern: "zzz" } })"}});
  ASSERT_TRUE(policies.ok()) << policies.status();
  policies::PolicyStore store(*policies, std::vector<std::string>{});
  auto judge = std::make_shared<CountingJudge>();
  moderation::Pipeline escalating = ZeroScoresPipeline(judge);
  PipelineChecks checks(&store, &escalating, judge.get(), "zero");
  auto* input = app_.mutable_input_moderation();
  input->set_llm_policy("the app's policy");
  input->set_llm_classifier_budget_ms(1000);
  EscalateViolence(input);
  const std::vector<std::string> texts = {"a bad text", "zzz bad", "a fine text", "a broken text"};
  const absl::Time before = absl::Now();
  const auto verdicts = checks.CheckMany(app_, v1::INPUT, texts, "", before + absl::Hours(1));
  EXPECT_EQ(judge->batch_calls, 1);
  EXPECT_EQ(judge->single_calls, 0);
  EXPECT_GE(judge->batch_deadline, before + absl::Milliseconds(3000));  // three texts judged
  EXPECT_LE(judge->batch_deadline, absl::Now() + absl::Milliseconds(3000));
  ASSERT_EQ(verdicts.size(), 4u);
  for (const auto& verdict : verdicts) ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdicts[0]->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdicts[0]->decision.decided_by(), v1::LLM_CLASSIFIER);
  EXPECT_FALSE(verdicts[0]->policy_verdict.has_value());  // no policy came with the request
  EXPECT_EQ(verdicts[1]->decision.decided_by(), v1::POLICY_FILTER);
  EXPECT_EQ(verdicts[1]->decision.message(), "no zzz here");
  EXPECT_EQ(verdicts[2]->decision.action(), v1::ALLOW);
  EXPECT_EQ(verdicts[2]->text, "a fine text");
  EXPECT_EQ(verdicts[3]->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdicts[3]->decision.decided_by(), v1::FAILURE);
}

// Answers a batch with one verdict too few.
class MiscountingJudge : public moderation::PolicyJudge {
 public:
  absl::StatusOr<float> ViolationProbability(std::string_view, std::string_view, const Deadline&) const override {
    return 0.1f;
  }
  std::vector<absl::StatusOr<float>> ViolationProbabilities(std::string_view, absl::Span<const std::string> texts,
                                                            const Deadline&) const override {
    return std::vector<absl::StatusOr<float>>(texts.size() - 1, 0.1f);
  }
};

// A judge that loses count gives no verdict: every text of the batch fails closed, both
// with a policy in the request and with the app's own policy.
TEST_F(PipelineChecksTest, JudgeWithTheWrongNumberOfVerdictsFailsEveryTextClosed) {
  auto judge = std::make_shared<MiscountingJudge>();
  moderation::Pipeline escalating = ZeroScoresPipeline(judge);
  PipelineChecks checks(store_.get(), &escalating, judge.get(), "zero");
  EscalateViolenceToTheAppsPolicy();
  const std::vector<std::string> texts = {"one", "two", "three"};
  for (const std::string policy : {"a policy", ""}) {
    const auto verdicts = checks.CheckMany(app_, v1::INPUT, texts, policy, absl::InfiniteFuture());
    ASSERT_EQ(verdicts.size(), 3u);
    for (const auto& verdict : verdicts) {
      ASSERT_TRUE(verdict.ok()) << verdict.status();
      EXPECT_EQ(verdict->decision.action(), v1::BLOCK) << "policy '" << policy << "'";
      EXPECT_EQ(verdict->decision.decided_by(), v1::FAILURE);
    }
  }
}

TEST_F(PipelineChecksTest, PolicyWithoutAModelIsAnErrorForEveryText) {
  PipelineChecks no_model(store_.get(), pipeline_.get(), nullptr, "zero");
  const std::vector<std::string> texts = {"one", "two"};
  const auto verdicts = no_model.CheckMany(app_, v1::INPUT, texts, "a policy", absl::InfiniteFuture());
  ASSERT_EQ(verdicts.size(), 2u);
  for (const auto& verdict : verdicts) EXPECT_EQ(verdict.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(no_model.CheckMany(app_, v1::INPUT, texts, "", absl::InfiniteFuture())[1].ok());
}

// An output stream whose app escalates a category to the LLM stage: every classification
// of the stream gives that stage the call's deadline, and a passed one fails closed.
class StreamDeadlineTest : public PipelineChecksTest {
 protected:
  void SetUp() override {
    PipelineChecksTest::SetUp();
    std::array<float, moderation::kNumCategories> thresholds;
    thresholds.fill(0.5f);
    stream_judge_ = std::make_shared<RecordingJudge>();
    escalating_ = std::make_unique<moderation::Pipeline>(std::make_shared<ZeroClassifier>(), thresholds, stream_judge_);
    stream_checks_ = std::make_unique<PipelineChecks>(store_.get(), escalating_.get(), nullptr, "zero");
    auto* output = app_.mutable_output_moderation();
    output->set_llm_policy("violent content violates");
    output->set_default_action(v1::BLOCK);
    auto* category = output->add_categories();
    category->set_category(v1::VIOLENCE);
    category->set_escalate_to_llm(true);
  }

  std::shared_ptr<RecordingJudge> stream_judge_;
  std::unique_ptr<moderation::Pipeline> escalating_;
  std::unique_ptr<PipelineChecks> stream_checks_;
};

TEST_F(StreamDeadlineTest, EscalatedCategoryGetsTheCallDeadline) {
  const absl::Time call_deadline = absl::Now() + absl::Seconds(30);
  auto stream = stream_checks_->StartOutputStream(app_, OutputDelivery::kStreamed, call_deadline);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->Push("some model text").ok());
  auto step = (*stream)->Finish();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(stream_judge_->seen, call_deadline);
  EXPECT_TRUE(step->blocked);  // 0.9 from the judge is over the 0.5 fallback threshold
  EXPECT_EQ((*stream)->decision().decided_by(), v1::LLM_CLASSIFIER);
}

TEST_F(StreamDeadlineTest, PassedCallDeadlineFailsTheStreamClosed) {
  auto stream = stream_checks_->StartOutputStream(app_, OutputDelivery::kStreamed, absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->Push("some model text").ok());
  auto step = (*stream)->Finish();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_TRUE(step->blocked);
  EXPECT_EQ(step->released, "");
  EXPECT_EQ((*stream)->decision().decided_by(), v1::FAILURE);
}

// A text a rule redacted and the request's policy says violates is blocked, as it is
// without the rule's finding: REDACT, the app's action, blocks a whole text, and a REDACT
// already in the decision must not hide that (it compared as REDACT > REDACT).
TEST_F(PipelineChecksTest, PolicyViolationBlocksATextARuleRedacted) {
  auto policies = policies::LoadPolicyTexts({{"r.textproto", R"(id: "red" rules { id: "r" category: PII
                                                                  action: REDACT regex { pattern: "zzz" } })"}});
  ASSERT_TRUE(policies.ok()) << policies.status();
  policies::PolicyStore store(*policies, std::vector<std::string>{});
  PipelineChecks checks(&store, pipeline_.get(), &judge_, "zero");
  v1::App app;
  app.set_id("a");
  app.add_input_policy_sets("red");
  app.mutable_input_moderation()->set_default_action(v1::REDACT);
  for (const char* text : {"violating text", "violating text zzz"}) {
    auto verdict = checks.Check(app, v1::INPUT, text, "a policy", absl::InfiniteFuture());
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    EXPECT_EQ(verdict->decision.action(), v1::BLOCK) << text;
    EXPECT_EQ(verdict->decision.decided_by(), v1::LLM_CLASSIFIER) << text;
    EXPECT_EQ(verdict->text, "") << text;
  }
}

// Fails its first call (over budget), then finds nothing.
class FailsOnceJudge : public moderation::PolicyJudge {
 public:
  absl::StatusOr<float> ViolationProbability(std::string_view, std::string_view, const Deadline&) const override {
    if (calls++ == 0) return absl::DeadlineExceededError("LLM classifier over budget");
    return 0.1f;
  }
  mutable int calls = 0;
};

// Violence 0.9 for texts under 1000 bytes, 0 for longer ones (a passage diluted by more text).
class DilutedViolenceClassifier : public moderation::Classifier {
 public:
  absl::StatusOr<std::vector<moderation::CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const override {
    std::vector<moderation::CategoryScores> out(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      out[i].scores[moderation::CategoryIndex(v1::VIOLENCE)] = texts[i].size() < 1000 ? 0.9f : 0.0f;
    }
    return out;
  }
  std::string name() const override { return "diluted"; }
};

// A stream's decision covers every classification whose text it released: a later
// classification of more text does not undo a fail-open pass or a flag.
TEST_F(PipelineChecksTest, StreamKeepsAFailOpenPassOfTextItReleased) {
  auto judge = std::make_shared<FailsOnceJudge>();
  moderation::Pipeline pipeline = ZeroScoresPipeline(judge);
  PipelineChecks checks(store_.get(), &pipeline, nullptr, "zero");
  app_.set_check_failure(v1::FAIL_OPEN);
  app_.mutable_output_moderation()->set_llm_policy("violent content violates");
  EscalateViolence(app_.mutable_output_moderation());
  auto stream = checks.StartOutputStream(app_, OutputDelivery::kStreamed, absl::InfiniteFuture());
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto first = (*stream)->Push(std::string(300, 'a'));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->released.size(), 300u);  // Released unchecked: the judge failed.
  ASSERT_TRUE((*stream)->decision().fail_open());
  ASSERT_TRUE((*stream)->Push(std::string(300, 'b')).ok());
  auto last = (*stream)->Finish();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_GE(judge->calls, 2);  // Later classifications ran and succeeded.
  EXPECT_TRUE((*stream)->decision().fail_open());
  EXPECT_EQ((*stream)->decision().action(), v1::ALLOW);
}

TEST_F(PipelineChecksTest, StreamKeepsAFlagOfTextItReleased) {
  std::array<float, moderation::kNumCategories> thresholds;
  thresholds.fill(0.5f);
  moderation::Pipeline pipeline(std::make_shared<DilutedViolenceClassifier>(), thresholds);
  PipelineChecks checks(store_.get(), &pipeline, nullptr, "diluted");
  app_.add_output_policy_sets("s");  // Rule r flags "zzz".
  auto stream = checks.StartOutputStream(app_, OutputDelivery::kStreamed, absl::InfiniteFuture());
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto first = (*stream)->Push(std::string(600, 'a') + " zzz");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->released.empty());
  ASSERT_EQ((*stream)->decision().action(), v1::FLAG);
  ASSERT_TRUE((*stream)->Push(std::string(600, 'b') + " zzz").ok());
  ASSERT_TRUE((*stream)->Finish().ok());
  const v1::Decision& decision = (*stream)->decision();
  EXPECT_EQ(decision.action(), v1::FLAG);
  EXPECT_EQ(decision.decided_by(), v1::FAST_CLASSIFIER);
  bool violence_flagged = false;
  for (const auto& score : decision.scores()) {
    if (score.category() == v1::VIOLENCE) {
      violence_flagged = score.flagged();
      EXPECT_FLOAT_EQ(score.score(), 0.9f);
    }
  }
  EXPECT_TRUE(violence_flagged);
  EXPECT_EQ(decision.rules_size(), 2);  // Each finding once, though classified twice.
}

// Output delivered whole (a unary Generate): rule `key` redacts `key=` and the letters after
// it but the streaming scanner waits for at most 16 bytes of a match; rule `stop` blocks.
class WholeOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policies = policies::LoadPolicyTexts({{"out.textproto", R"(id: "out"
        rules { id: "key" category: SECRETS action: REDACT max_match_bytes: 16 regex { pattern: "key=[a-z]+" } }
        rules { id: "stop" category: CUSTOM action: BLOCK regex { pattern: "STOPWORD" } })"}});
    ASSERT_TRUE(policies.ok()) << policies.status();
    store_ = std::make_unique<policies::PolicyStore>(*policies, std::vector<std::string>{});
    std::array<float, moderation::kNumCategories> thresholds;
    thresholds.fill(0.5f);
    classifier_ = std::make_shared<CountingClassifier>();
    pipeline_ = std::make_unique<moderation::Pipeline>(classifier_, thresholds);
    checks_ = std::make_unique<PipelineChecks>(store_.get(), pipeline_.get(), nullptr, "counting");
    app_.set_id("a");
    app_.add_output_policy_sets("out");
  }

  // Pushes `text` in `chunk`-byte pieces, then finishes; returns everything released
  // (Finish's included) and whether a step blocked, and at which push (-1: none).
  struct Outcome {
    std::string released;
    bool blocked = false;
    int blocked_at_push = -1;
    std::vector<size_t> released_per_push;
  };
  Outcome Run(StreamChecks& stream, const std::string& text, size_t chunk) {
    Outcome outcome;
    for (size_t at = 0, push = 0; at < text.size(); at += chunk, ++push) {
      auto step = stream.Push(std::string_view(text).substr(at, chunk));
      EXPECT_TRUE(step.ok()) << step.status();
      if (!step.ok()) return outcome;
      outcome.released += step->released;
      outcome.released_per_push.push_back(step->released.size());
      if (step->blocked) {
        outcome.blocked = true;
        outcome.blocked_at_push = static_cast<int>(push);
        return outcome;
      }
    }
    auto last = stream.Finish();
    EXPECT_TRUE(last.ok()) << last.status();
    if (!last.ok()) return outcome;
    outcome.released += last->released;
    outcome.blocked = last->blocked;
    return outcome;
  }

  std::shared_ptr<CountingClassifier> classifier_;
  std::unique_ptr<policies::PolicyStore> store_;
  std::unique_ptr<moderation::Pipeline> pipeline_;
  std::unique_ptr<PipelineChecks> checks_;
  v1::App app_;
};

TEST_F(WholeOutputTest, AMatchLongerThanTheHoldBackIsRedactedWholeAsCheckWould) {
  const std::string text = "Here: key=" + std::string(300, 'q') + " and the rest.";
  auto stream = checks_->StartOutputStream(app_, OutputDelivery::kWhole, absl::InfiniteFuture());
  ASSERT_TRUE(stream.ok()) << stream.status();
  const Outcome outcome = Run(**stream, text, 16);
  for (size_t bytes : outcome.released_per_push) EXPECT_EQ(bytes, 0u);  // Nothing before the end.
  EXPECT_EQ(outcome.released, "Here: [CUSTOM] and the rest.");
  EXPECT_FALSE(outcome.blocked);
  EXPECT_EQ((*stream)->decision().action(), v1::REDACT);
  ASSERT_EQ((*stream)->decision().rules_size(), 1);
  EXPECT_EQ((*stream)->decision().rules(0).span().end() - (*stream)->decision().rules(0).span().begin(), 304);

  auto whole = checks_->Check(app_, v1::OUTPUT, text);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->text, outcome.released);
}

TEST_F(WholeOutputTest, ABlockingRuleStillStopsTheOutputBeforeItEnds) {
  // Words after it: a token still growing at the end is held whole, with the 64 bytes
  // before it, so a finding next to a long token settles when that token ends.
  std::string text = "Some words, then STOPWORD, then ";
  while (text.size() < 4000) text += "xxxxxxx ";
  auto stream = checks_->StartOutputStream(app_, OutputDelivery::kWhole, absl::InfiniteFuture());
  ASSERT_TRUE(stream.ok()) << stream.status();
  const Outcome outcome = Run(**stream, text, 16);
  EXPECT_TRUE(outcome.blocked);
  EXPECT_GE(outcome.blocked_at_push, 0);                      // Blocked by a Push, not at Finish,
  EXPECT_LT(outcome.blocked_at_push, 4000 / 16);              // long before the output's end.
  EXPECT_EQ(outcome.released, "");
  EXPECT_EQ((*stream)->decision().action(), v1::BLOCK);
}

TEST_F(WholeOutputTest, ClassifiersReadALongWholeOutputAFewTimesOnly) {
  const std::string text(64 * 1024, 'w');
  auto stream = checks_->StartOutputStream(app_, OutputDelivery::kWhole, absl::InfiniteFuture());
  ASSERT_TRUE(stream.ok()) << stream.status();
  const Outcome outcome = Run(**stream, text, 16);
  EXPECT_EQ(outcome.released, text);
  // Re-read as the output doubles, then once whole: a few times its size in all (streamed
  // delivery re-reads it every 256 bytes: ~8 MiB here).
  EXPECT_LE(classifier_->bytes, 4 * text.size());
  EXPECT_LE(classifier_->calls, 16u);
}

}  // namespace
}  // namespace warden::gateway
