#include "gateway/decisions.h"

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

v1::Decision WithScore(v1::Category category, float score, bool flagged, v1::Stage stage) {
  v1::Decision decision;
  decision.set_action(flagged ? v1::FLAG : v1::ALLOW);
  auto* s = decision.add_scores();
  s->set_category(category);
  s->set_score(score);
  s->set_flagged(flagged);
  s->set_stage(stage);
  return decision;
}

// Thresholds differ by stage: a lower score may be the flagged one. The category keeps the
// highest score with its stage, and is flagged.
TEST(MergeDecision, KeepsTheHighestScoreAndAnyFlag) {
  v1::Decision total;
  MergeDecision(WithScore(v1::HATE, 0.45f, false, v1::LLM_CLASSIFIER), 0, &total);
  MergeDecision(WithScore(v1::HATE, 0.35f, true, v1::FAST_CLASSIFIER), 1, &total);
  ASSERT_EQ(total.scores_size(), 1);
  EXPECT_FLOAT_EQ(total.scores(0).score(), 0.45f);
  EXPECT_EQ(total.scores(0).stage(), v1::LLM_CLASSIFIER);
  EXPECT_TRUE(total.scores(0).flagged());
  EXPECT_EQ(total.action(), v1::FLAG);
  MergeDecision(WithScore(v1::HATE, 0.2f, false, v1::FAST_CLASSIFIER), 2, &total);
  EXPECT_FLOAT_EQ(total.scores(0).score(), 0.45f);
  EXPECT_TRUE(total.scores(0).flagged());
}

TEST(MergeDecision, StrongerActionWinsWithItsStageAndRulesAreNumbered) {
  v1::Decision total;
  v1::Decision flag = WithScore(v1::VIOLENCE, 0.6f, true, v1::FAST_CLASSIFIER);
  flag.set_decided_by(v1::FAST_CLASSIFIER);
  flag.add_rules()->set_rule_id("r1");
  v1::Decision block;
  block.set_action(v1::BLOCK);
  block.set_decided_by(v1::POLICY_FILTER);
  block.set_message("blocked");
  block.set_fail_open(true);
  block.add_rules()->set_rule_id("r2");
  MergeDecision(flag, 0, &total);
  MergeDecision(block, 3, &total);
  MergeDecision(flag, 4, &total);
  EXPECT_EQ(total.action(), v1::BLOCK);
  EXPECT_EQ(total.decided_by(), v1::POLICY_FILTER);
  EXPECT_EQ(total.message(), "blocked");
  EXPECT_TRUE(total.fail_open());
  ASSERT_EQ(total.rules_size(), 3);
  EXPECT_EQ(total.rules(1).text_index(), 3);
  EXPECT_EQ(total.rules(2).text_index(), 4);
}

}  // namespace
}  // namespace warden::gateway
