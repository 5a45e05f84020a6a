// PipelineChecks' LLM policy judgement: the deadline the judge gets is the earlier of the
// call's and the app's LLM budget, and a judge that runs out of time fails closed.
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

// Records the deadline it is given; DeadlineExceeded when it has passed.
class RecordingJudge : public moderation::PolicyJudge {
 public:
  absl::StatusOr<float> ViolationProbability(std::string_view, std::string_view, absl::Time deadline) const override {
    seen = deadline;
    if (absl::Now() > deadline) return absl::DeadlineExceededError("budget spent");
    return 0.9f;
  }
  mutable absl::Time seen;
};

class PipelineChecksTest : public ::testing::Test {
 protected:
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

TEST_F(PipelineChecksTest, PassedCallDeadlineFailsClosed) {
  auto verdict = checks_->Check(app_, v1::INPUT, "text", "a policy", absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->decision.action(), v1::BLOCK);
  EXPECT_EQ(verdict->decision.decided_by(), v1::FAILURE);
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
  auto stream = stream_checks_->StartOutputStream(app_, call_deadline);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->Push("some model text").ok());
  auto step = (*stream)->Finish();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(stream_judge_->seen, call_deadline);
  EXPECT_TRUE(step->blocked);  // 0.9 from the judge is over the 0.5 fallback threshold
  EXPECT_EQ((*stream)->decision().decided_by(), v1::LLM_CLASSIFIER);
}

TEST_F(StreamDeadlineTest, PassedCallDeadlineFailsTheStreamClosed) {
  auto stream = stream_checks_->StartOutputStream(app_, absl::Now() - absl::Seconds(1));
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->Push("some model text").ok());
  auto step = (*stream)->Finish();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_TRUE(step->blocked);
  EXPECT_EQ(step->released, "");
  EXPECT_EQ((*stream)->decision().decided_by(), v1::FAILURE);
}

}  // namespace
}  // namespace warden::gateway
