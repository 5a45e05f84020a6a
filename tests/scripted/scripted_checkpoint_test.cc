// Writes scripted checkpoints, loads them with the real engine and checks that greedy
// generation after a rendered harmony prompt reproduces the script token for token, and that
// the harmony stream parser reads it back as the intended messages.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/engine.h"
#include "model/harmony/message.h"
#include "model/harmony/renderer.h"
#include "model/harmony/stream_parser.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tools/script_text.h"
#include "tests/tools/scripted_weights.h"

namespace warden::scripted {
namespace {

using model::harmony::Message;
using model::harmony::ParsedMessage;
using model::harmony::Role;

constexpr char kFinalOnly[] =
    "<|channel|>final<|message|>Contact me at bob@example.com today.<|return|>";
constexpr char kAnalysisThenFinal[] =
    "<|channel|>analysis<|message|>Let me think.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Contact me at bob@example.com today.<|return|>";

class ScriptedCheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokenizer = model::Tokenizer::LoadTiktoken(model::Tokenizer::DefaultVocabPath());
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = std::move(tokenizer).value().release();
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    tokenizer_ = nullptr;
  }

  // Plans `script`, writes the checkpoint under TEST_TMPDIR/`name` and loads it.
  static std::unique_ptr<model::Engine> WriteAndLoad(const std::string& script,
                                                     const std::string& name,
                                                     ScriptPlan* plan_out = nullptr) {
    auto plan = PlanScriptText(*tokenizer_, kDefaultPromptTail, script);
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return nullptr;
    auto checkpoint = BuildScriptedCheckpoint(*plan);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    if (!checkpoint.ok()) return nullptr;
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
    const absl::Status written = WriteScriptedCheckpoint(dir, *checkpoint);
    EXPECT_TRUE(written.ok()) << written;
    model::LoadOptions options;
    options.model_dir = dir;
    options.threads = 2;
    options.kv_budget_bytes = 64 << 20;
    auto engine = model::Engine::Load(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    if (!engine.ok()) return nullptr;
    if (plan_out != nullptr) *plan_out = *plan;
    return std::move(engine).value();
  }

  static std::vector<int32_t> Ids(const std::string& text) {
    auto ids = tokenizer_->EncodeWithSpecials(text, model::AllowedSpecials::All());
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? std::vector<int32_t>(ids->begin(), ids->end()) : std::vector<int32_t>{};
  }

  // A completion prompt as the gateway renders it: ends with <|start|>assistant.
  static std::vector<int32_t> Prompt(const std::vector<Message>& messages) {
    auto renderer = model::harmony::Renderer::Create(tokenizer_);
    EXPECT_TRUE(renderer.ok()) << renderer.status();
    if (!renderer.ok()) return {};
    auto ids = (*renderer)->Render(messages, model::harmony::RenderOptions{});
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? std::vector<int32_t>(ids->begin(), ids->end()) : std::vector<int32_t>{};
  }
  static std::vector<int32_t> UserPrompt(const std::string& text) {
    return Prompt({Message::System(model::harmony::SystemContent::Defaults()),
                   Message::Text(Role::kUser, text)});
  }

  static model::GenerateResult Generate(model::Engine& engine, const std::vector<int32_t>& prompt,
                                        std::optional<float> temperature = 0.0f) {
    model::GenerateOptions options;
    options.max_tokens = 64;
    options.temperature = temperature;
    options.seed = 7;
    auto result = engine.Generate(prompt, options, [](int32_t) { return true; });
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : model::GenerateResult{};
  }

  static std::vector<ParsedMessage> Parse(const std::vector<int32_t>& ids) {
    auto parser = model::harmony::StreamParser::Create(tokenizer_, model::harmony::ParserOptions{});
    EXPECT_TRUE(parser.ok()) << parser.status();
    if (!parser.ok()) return {};
    for (int32_t id : ids) {
      const absl::Status status = (*parser)->Process(static_cast<uint32_t>(id));
      EXPECT_TRUE(status.ok()) << status << " at id " << id;
      if (!status.ok()) return {};
    }
    return (*parser)->messages();
  }

  static model::Tokenizer* tokenizer_;
};

model::Tokenizer* ScriptedCheckpointTest::tokenizer_ = nullptr;

TEST_F(ScriptedCheckpointTest, AssistantIsOneTokenSoTheChainStartsAtThePromptsLastToken) {
  EXPECT_EQ(tokenizer_->EncodeOrdinary("assistant").size(), 1u);
  const std::vector<int32_t> prompt = UserPrompt("Hello");
  ASSERT_GE(prompt.size(), 2u);
  const std::vector<int32_t> tail = Ids(kDefaultPromptTail);
  EXPECT_EQ(std::vector<int32_t>(prompt.end() - 2, prompt.end()), tail);
}

TEST_F(ScriptedCheckpointTest, GreedyOutputEqualsFinalOnlyScript) {
  ScriptPlan plan;
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kFinalOnly, "final_only", &plan);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->config().vocab_size, kO200kHarmonyVocabSize);
  const model::GenerateResult result = Generate(*engine, UserPrompt("How can I reach you?"));
  EXPECT_EQ(result.tokens, Ids(kFinalOnly));
  EXPECT_EQ(result.tokens, plan.script());
  EXPECT_EQ(result.finish_reason, model::FinishReason::kStopToken);
  const std::vector<ParsedMessage> messages = Parse(result.tokens);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].role, Role::kAssistant);
  EXPECT_EQ(messages[0].channel, "final");
  EXPECT_EQ(messages[0].content, "Contact me at bob@example.com today.");
}

TEST_F(ScriptedCheckpointTest, OutputDoesNotDependOnEarlierPromptTokens) {
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kFinalOnly, "final_only_prompts");
  ASSERT_NE(engine, nullptr);
  const std::vector<int32_t> want = Ids(kFinalOnly);
  EXPECT_EQ(
      Generate(*engine, UserPrompt("Something entirely different, and longer: 1 2 3 4 5.")).tokens,
      want);
  EXPECT_EQ(Generate(*engine, Ids("<|start|>user<|message|>hi<|end|><|start|>assistant")).tokens,
            want);
  // A multi-turn chat whose earlier answer contains script tokens ("final", " me").
  const std::vector<int32_t> chat =
      Prompt({Message::Text(Role::kUser, "Who are you?"),
              Message{Role::kAssistant, {}, {}, "final", {}, {"Call me Bob."}},
              Message::Text(Role::kUser, "How can I reach you?")});
  EXPECT_EQ(Generate(*engine, chat).tokens, want);
}

TEST_F(ScriptedCheckpointTest, GreedyOutputEqualsAnalysisThenFinalScript) {
  ScriptPlan plan;
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kAnalysisThenFinal, "analysis_final", &plan);
  ASSERT_NE(engine, nullptr);
  EXPECT_FALSE(
      plan.landmarks.empty());  // "assistant<|channel|>" repeats: needs the channel landmark
  const std::vector<int32_t> want = Ids(kAnalysisThenFinal);
  std::string long_question;
  for (int i = 0; i < 400; ++i)
    long_question += absl::StrCat("Sentence number ", i, " of a long question. ");
  const std::vector<std::vector<int32_t>> prompts = {
      UserPrompt("Think first."), UserPrompt(long_question),
      // An earlier turn's final answer puts "final" and "assistant<|channel|>" into the prompt.
      Prompt({Message::Text(Role::kUser, "Who are you?"),
              Message{Role::kAssistant, {}, {}, "final", {}, {"Call me Bob."}},
              Message::Text(Role::kUser, "How can I reach you?")})};
  for (size_t p = 0; p < prompts.size(); ++p) {
    const model::GenerateResult result = Generate(*engine, prompts[p]);
    EXPECT_EQ(result.tokens, want) << "prompt " << p << " of " << prompts[p].size() << " tokens";
    const std::vector<ParsedMessage> messages = Parse(result.tokens);
    ASSERT_EQ(messages.size(), 2u) << "prompt " << p;
    EXPECT_EQ(messages[0].channel, "analysis");
    EXPECT_EQ(messages[0].content, "Let me think.");
    EXPECT_EQ(messages[1].role, Role::kAssistant);
    EXPECT_EQ(messages[1].channel, "final");
    EXPECT_EQ(messages[1].content, "Contact me at bob@example.com today.");
  }
}

TEST_F(ScriptedCheckpointTest, GreedyOutputEqualsAnalysisCommentaryFinalScript) {
  const std::string script =
      "<|channel|>analysis<|message|>User wants my email.<|end|>"
      "<|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
      "<|start|>assistant<|channel|>final<|message|>Write to bob@example.com.<|return|>";
  std::unique_ptr<model::Engine> engine = WriteAndLoad(script, "three_messages");
  ASSERT_NE(engine, nullptr);
  const model::GenerateResult result = Generate(*engine, UserPrompt("What is your email?"));
  EXPECT_EQ(result.tokens, Ids(script));
  const std::vector<ParsedMessage> messages = Parse(result.tokens);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].channel, "analysis");
  EXPECT_EQ(messages[0].content, "User wants my email.");
  EXPECT_EQ(messages[1].channel, "commentary");
  EXPECT_EQ(messages[1].content, "Checking.");
  EXPECT_EQ(messages[2].channel, "final");
  EXPECT_EQ(messages[2].content, "Write to bob@example.com.");
}

TEST_F(ScriptedCheckpointTest, GreedyOutputEqualsToolCallScriptEndingWithCall) {
  const std::string script =
      "<|channel|>analysis<|message|>Need weather.<|end|>"
      "<|start|>assistant to=functions.get_weather<|channel|>commentary "
      "<|constrain|>json<|message|>"
      "{\"city\":\"Paris\"}<|call|>";
  std::unique_ptr<model::Engine> engine = WriteAndLoad(script, "tool_call");
  ASSERT_NE(engine, nullptr);
  const model::GenerateResult result = Generate(*engine, UserPrompt("Weather in Paris?"));
  EXPECT_EQ(result.tokens, Ids(script));
  EXPECT_EQ(result.tokens.back(), model::kCallToken);
  EXPECT_EQ(result.finish_reason, model::FinishReason::kStopToken);
  const std::vector<ParsedMessage> messages = Parse(result.tokens);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].channel, "analysis");
  EXPECT_EQ(messages[1].recipient, "functions.get_weather");
  EXPECT_EQ(messages[1].channel, "commentary");
  EXPECT_EQ(messages[1].content_type, "<|constrain|>json");
  EXPECT_EQ(messages[1].content, "{\"city\":\"Paris\"}");
}

// The engine's logits at every script step are the plan's simulated scores times one
// positive factor per step (the final RMSNorm's), and every token without a rule gets ~0.
TEST_F(ScriptedCheckpointTest, LogitsArePlanScoresUpToOneFactorPerStep) {
  ScriptPlan plan;
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kAnalysisThenFinal, "logits_vs_plan", &plan);
  ASSERT_NE(engine, nullptr);
  std::vector<int32_t> tokens = UserPrompt("Hi");
  const int64_t tail_row =
      static_cast<int64_t>(tokens.size()) - plan.script_begin;  // row of chain[0]
  tokens.insert(tokens.end(), plan.chain.begin() + plan.script_begin, plan.chain.end() - 1);
  const model::SequenceId sequence = engine->CreateSequence();
  auto logits = engine->Prefill(sequence, tokens, /*all_positions=*/true);
  ASSERT_TRUE(logits.ok()) << logits.status();
  const int64_t vocab = engine->config().vocab_size;
  ASSERT_EQ(static_cast<int64_t>(logits->size()), static_cast<int64_t>(tokens.size()) * vocab);
  for (int step = plan.script_begin - 1; step + 1 < static_cast<int>(plan.chain.size()); ++step) {
    const float* row = logits->data() + (tail_row + step) * vocab;
    const int32_t want = plan.chain[step + 1];
    double want_score = 0.0;
    std::vector<bool> has_rule(vocab, false);
    const auto candidates = ScoreCandidates(plan, step);
    for (const auto& [token, score] : candidates) {
      has_rule[token] = true;
      if (token == want) want_score = score;
    }
    ASSERT_GT(want_score, 0.0);
    const double factor = row[want] / want_score;
    EXPECT_GT(factor, 10.0) << "step " << step;  // logit units: >= 16·sqrt(H/3)
    for (const auto& [token, score] : candidates) {
      EXPECT_NEAR(row[token], factor * score, 0.02 * row[want])
          << "step " << step << " token " << token;
    }
    float off_rule_max = 0.0f;
    for (int64_t token = 0; token < vocab; ++token) {
      if (!has_rule[token]) off_rule_max = std::max(off_rule_max, std::abs(row[token]));
    }
    EXPECT_LT(off_rule_max, 0.01f * row[want]) << "step " << step;
  }
  EXPECT_TRUE(engine->ReleaseSequence(sequence).ok());
}

TEST_F(ScriptedCheckpointTest, SamplingAtTemperatureOneAlsoFollowsTheScript) {
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kFinalOnly, "final_only_sampled");
  ASSERT_NE(engine, nullptr);
  // No temperature given: the checkpoint has no default either, so the engine samples at 1.
  EXPECT_EQ(Generate(*engine, UserPrompt("Hello"), std::nullopt).tokens, Ids(kFinalOnly));
}

TEST_F(ScriptedCheckpointTest, PromptNotEndingInTheTailEndsGenerationAtOnce) {
  std::unique_ptr<model::Engine> engine = WriteAndLoad(kFinalOnly, "final_only_off_script");
  ASSERT_NE(engine, nullptr);
  // "zebra" is not a script token: its sink embedding's successor is <|return|>.
  const model::GenerateResult result = Generate(*engine, Ids("<|start|>user<|message|> zebra"));
  EXPECT_EQ(result.tokens, std::vector<int32_t>{model::kReturnToken});
}

TEST_F(ScriptedCheckpointTest, RepeatedHeadersWithoutDistinctChannelsAreRejected) {
  const std::string twice_analysis =
      "<|channel|>analysis<|message|>One.<|end|><|start|>assistant<|channel|>analysis<|message|>"
      "Two.<|return|>";
  auto plan = PlanScriptText(*tokenizer_, kDefaultPromptTail, twice_analysis);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::scripted
