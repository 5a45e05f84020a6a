#include "tests/tools/script_plan.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace warden::scripted {
namespace {

constexpr int kVocab = 201088;
constexpr int32_t kAssistant = 173781;  // any id works; this is o200k's "assistant"
constexpr int32_t kMessage = 200008, kEnd = 200007;
const std::vector<int32_t> kTail = {kStartToken, kAssistant};

TEST(PlanScript, AppendsReturnWhenScriptLacksStopToken) {
  auto plan = PlanScript(kTail, {1, 2, 3}, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->script(), (std::vector<int32_t>{1, 2, 3, kReturnToken}));
  EXPECT_TRUE(plan->landmarks.empty());
}

TEST(PlanScript, KeepsScriptEndingWithCall) {
  auto plan = PlanScript(kTail, {1, 2, kCallToken}, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->script(), (std::vector<int32_t>{1, 2, kCallToken}));
}

TEST(PlanScript, AcceptsRepeatedTokenInDistinctContexts) {
  // "1" repeats, but after different predecessors; so does "2".
  auto plan = PlanScript(kTail, {1, 2, 1, 3, 2, kReturnToken}, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->rules.size(), 6u);
}

TEST(PlanScript, RejectsSameTwoTokensWithDifferentSuccessors) {
  auto plan = PlanScript(kTail, {1, 2, 3, 1, 2, 4}, kVocab);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("ambiguous"), std::string::npos) << plan.status();
}

TEST(PlanScript, RejectsStopTokenBeforeEnd) {
  auto plan = PlanScript(kTail, {1, kReturnToken, 2}, kVocab);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanScript, RejectsIdsOutsideVocabularyAndShortTail) {
  EXPECT_EQ(PlanScript(kTail, {1, kVocab}, kVocab).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanScript(kTail, {-1}, kVocab).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanScript({kAssistant}, {1}, kVocab).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanScript(kTail, {}, kVocab).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanScript, UsesEarlierChannelNamesAsLandmarksForAnalysisThenFinal) {
  const int32_t analysis = 10, final_name = 11;
  // <|channel|>analysis<|message|>20<|end|><|start|>assistant<|channel|>final<|message|>21<|return|>
  const std::vector<int32_t> script = {kChannelToken, analysis,    kMessage,   20,
                                       kEnd,          kStartToken, kAssistant, kChannelToken,
                                       final_name,    kMessage,    21,         kReturnToken};
  auto plan = PlanScript(kTail, script, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->landmarks, std::vector<int32_t>{analysis});
  EXPECT_EQ(plan->script(), script);
}

TEST(PlanScript, RejectsRepeatedHeaderWithoutDistinctChannelNames) {
  // Two analysis messages: the second header looks exactly like the first.
  const std::vector<int32_t> script = {
      kChannelToken, 10, kMessage, 20, kEnd,        kStartToken, kAssistant,
      kChannelToken, 10, kMessage, 21, kReturnToken};
  EXPECT_EQ(PlanScript(kTail, script, kVocab).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ScoreCandidates, CorrectSuccessorLeadsEveryStepByTheMargin) {
  const std::vector<int32_t> script = {
      kChannelToken, 10, kMessage, 20, kEnd,        kStartToken, kAssistant,
      kChannelToken, 11, kMessage, 21, kReturnToken};
  auto plan = PlanScript(kTail, script, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (int step = plan->script_begin - 1; step + 1 < static_cast<int>(plan->chain.size()); ++step) {
    double want = 0.0, other = 0.0;
    for (const auto& [token, score] : ScoreCandidates(*plan, step)) {
      if (token == plan->chain[step + 1]) {
        want = score;
      } else {
        other = std::max(other, score);
      }
    }
    EXPECT_GE(want, other + kMinimumMargin) << "step " << step;
    EXPECT_GE(want, kCurWeight + kPrevWeight) << "step " << step;
  }
}

TEST(ScoreCandidates, SuccessorOfARepeatedTokenCountsThatTokenOnce) {
  // "." ends two sentences followed by <|end|> and a third followed by <|return|>: <|end|>
  // must not collect the cur weight twice after the last ".".
  const int32_t dot = 13;
  auto plan =
      PlanScript(kTail, {kChannelToken, 10, kMessage, 1, dot, kEnd,        kStartToken, kAssistant,
                         kChannelToken, 11, kMessage, 2, dot, kEnd,        kStartToken, kAssistant,
                         kChannelToken, 12, kMessage, 3, dot, kReturnToken},
                 kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<Readout> readouts = Readouts(*plan);
  const auto end = std::find_if(readouts.begin(), readouts.end(),
                                [](const Readout& r) { return r.token == kEnd; });
  ASSERT_NE(end, readouts.end());
  EXPECT_EQ(end->cur_slots, std::vector<int>{plan->SlotOf(dot)});
  EXPECT_EQ(end->prev_slots.size(), 2u);
}

TEST(ScoreCandidates, OffScriptTokenLeadsToReturn) {
  auto plan = PlanScript(kTail, {1, 2}, kVocab);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ScriptPlan off = *plan;
  off.chain.push_back(999);  // a token outside the script as the current token
  double best = 0.0;
  int32_t best_token = -1;
  for (const auto& [token, score] : ScoreCandidates(off, static_cast<int>(off.chain.size()) - 1)) {
    if (score > best) best = score, best_token = token;
  }
  EXPECT_EQ(best_token, kReturnToken);
}

}  // namespace
}  // namespace warden::scripted
