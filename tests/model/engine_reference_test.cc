// The engine against OpenAI's reference implementation on the gpt-oss-tiny fixture, in both
// checkpoint layouts, whole-prompt prefill and token by token.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/engine.h"
#include "tests/model/reference_fixture.h"

namespace warden::model {
namespace {

using testing::CompareLogits;
using testing::LoadReference;
using testing::Reference;

// README tolerances for an engine compared with the fp32 reference (the reference's own
// bf16-activation mode drifts 0.10-0.17 max, 0.017 mean). Token by token, every product
// keeps float32 activations, so that path is also held to a float32 bound. A whole-prompt
// prefill of >= 32 tokens rounds activations to bf16 in its products
// (PrefillPrecision, model/engine.h; here the 41-token sequence): it gets the
// README bounds only (measured: max 0.040, mean 0.006), while its shorter sequences still
// meet the float32 bound.
constexpr double kMaxAbsDiff = 0.30;
constexpr double kMeanAbsDiff = 0.03;
constexpr double kFloat32MaxAbsDiff = 2e-3;
constexpr size_t kRoundedActivationMinTokens = 32;

// Loads the fixture's reference and an engine on it; runs the fixture's sequences the two
// ways the tests compare: one token at a time, and greedy generation.
class ReferenceEngineTest : public ::testing::Test {
 protected:
  void Load(const std::string& model_dir, WeightMode mode) {
    auto reference = LoadReference();
    ASSERT_TRUE(reference.ok()) << reference.status();
    reference_ = *std::move(reference);
    LoadOptions options;
    options.model_dir = model_dir;
    options.threads = 2;
    options.weight_mode = mode;
    auto engine = Engine::Load(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  // Logits of every position of sequence s, fed one token per step (decode-sized steps);
  // empty after a failure (which the comparison then reports as a size mismatch).
  std::vector<float> TokenByTokenLogits(size_t s) {
    const SequenceId seq = engine_->CreateSequence();
    std::vector<float> all;
    for (int32_t token : reference_.sequences[s].tokens) {
      auto logits = engine_->Prefill(seq, {token});
      EXPECT_TRUE(logits.ok()) << logits.status();
      if (!logits.ok()) return {};
      all.insert(all.end(), logits->begin(), logits->end());
    }
    EXPECT_TRUE(engine_->ReleaseSequence(seq).ok());
    return all;
  }

  // The greedy continuation of sequence s, as long as the reference's.
  absl::StatusOr<std::vector<int32_t>> GreedyContinuation(size_t s) {
    GenerateOptions options;
    options.max_tokens = static_cast<int>(reference_.sequences[s].greedy.continuation.size());
    options.temperature = 0.0f;
    options.stop_token_ids.clear();
    auto result = engine_->Generate(reference_.sequences[s].tokens, options, nullptr);
    if (!result.ok()) return result.status();
    return std::move(result->tokens);
  }

  Reference reference_;
  std::unique_ptr<Engine> engine_;
};

class EngineReferenceTest : public ReferenceEngineTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { Load(GetParam(), WeightMode::kExact); }

  void ExpectMatches(const std::vector<float>& logits, size_t s, bool float32_activations) {
    const auto cmp = CompareLogits(logits, reference_.sequences[s], reference_.vocab);
    EXPECT_LE(cmp.max_abs_diff, kMaxAbsDiff) << "sequence " << s;
    EXPECT_LE(cmp.mean_abs_diff, kMeanAbsDiff) << "sequence " << s;
    if (float32_activations) {
      EXPECT_LE(cmp.max_abs_diff, kFloat32MaxAbsDiff) << "sequence " << s;
    }
    EXPECT_TRUE(cmp.argmax_mismatches.empty()) << "sequence " << s;
    std::printf("layout %s sequence %zu: max abs diff %.6f mean %.7f\n", GetParam().c_str(), s,
                cmp.max_abs_diff, cmp.mean_abs_diff);
  }
};

TEST_P(EngineReferenceTest, PrefillMatchesReferenceLogitsAtEveryPosition) {
  for (size_t s = 0; s < reference_.sequences.size(); ++s) {
    const SequenceId seq = engine_->CreateSequence();
    auto logits = engine_->Prefill(seq, reference_.sequences[s].tokens, /*all_positions=*/true);
    ASSERT_TRUE(logits.ok()) << logits.status();
    ExpectMatches(*logits, s, reference_.sequences[s].tokens.size() < kRoundedActivationMinTokens);
    ASSERT_TRUE(engine_->ReleaseSequence(seq).ok());
  }
}

TEST_P(EngineReferenceTest, TokenByTokenMatchesReferenceLogits) {
  for (size_t s = 0; s < reference_.sequences.size(); ++s) {
    ExpectMatches(TokenByTokenLogits(s), s, /*float32_activations=*/true);
  }
}

TEST_P(EngineReferenceTest, GreedyContinuationMatchesReferenceUntilFirstNearTie) {
  for (size_t s = 0; s < reference_.sequences.size(); ++s) {
    const auto& greedy = reference_.sequences[s].greedy;
    ASSERT_FALSE(greedy.continuation.empty());
    const auto tokens = GreedyContinuation(s);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    ASSERT_EQ(tokens->size(), greedy.continuation.size());
    size_t checked = 0;
    for (size_t i = 0; i < greedy.continuation.size(); ++i) {
      EXPECT_EQ((*tokens)[i], greedy.continuation[i]) << "sequence " << s << " step " << i;
      ++checked;
      if (greedy.margins[i] < 0.25f) break;  // later steps may legitimately diverge
    }
    EXPECT_GE(checked, 1u);
  }
}

// The fast weight mode (int8 attention/unembedding, int8 expert activations in decode):
// greedy text equals the reference's while the reference's top-2 margin is clearly larger
// than the fast mode's logit error, and token-by-token logits keep the argmax everywhere and
// stay within the fast mode's documented bounds (README "Engine speed"): the mean within the
// fixture README's 0.03, the largest difference within 0.6 (measured 0.51 at one position of
// sequence 2, 0.11-0.12 elsewhere; 0.12 with float32 expert activations).
constexpr float kFastGreedyMargin = 0.5f;
constexpr double kFastMaxAbsDiff = 0.6;

class EngineReferenceFastTest : public ReferenceEngineTest {
 protected:
  void SetUp() override { Load(testing::kTinyDir, WeightMode::kFast); }
};

TEST_F(EngineReferenceFastTest, GreedyContinuationMatchesReferenceWhileTheMarginIsClear) {
  size_t checked = 0, expected_checks = 0;
  for (size_t s = 0; s < reference_.sequences.size(); ++s) {
    const auto& greedy = reference_.sequences[s].greedy;
    const auto tokens = GreedyContinuation(s);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    ASSERT_EQ(tokens->size(), greedy.continuation.size());
    for (size_t i = 0; i < greedy.continuation.size() && greedy.margins[i] >= kFastGreedyMargin; ++i) {
      EXPECT_EQ((*tokens)[i], greedy.continuation[i]) << "sequence " << s << " step " << i;
      ++checked;
    }
    if (!greedy.margins.empty() && greedy.margins[0] >= kFastGreedyMargin) ++expected_checks;
  }
  EXPECT_GE(checked, expected_checks);
  EXPECT_GE(checked, 1u);  // the fixtures do have clear first steps
}

TEST_F(EngineReferenceFastTest, TokenByTokenLogitsStayWithinTheFastBounds) {
  for (size_t s = 0; s < reference_.sequences.size(); ++s) {
    const auto cmp = CompareLogits(TokenByTokenLogits(s), reference_.sequences[s], reference_.vocab);
    EXPECT_LE(cmp.max_abs_diff, kFastMaxAbsDiff) << "sequence " << s;
    EXPECT_LE(cmp.mean_abs_diff, kMeanAbsDiff) << "sequence " << s;
    EXPECT_TRUE(cmp.argmax_mismatches.empty()) << "sequence " << s;
    std::printf("fast mode sequence %zu: max abs diff %.6f mean %.7f, %zu argmax mismatches\n", s, cmp.max_abs_diff,
                cmp.mean_abs_diff, cmp.argmax_mismatches.size());
  }
}

INSTANTIATE_TEST_SUITE_P(BothLayouts, EngineReferenceTest,
                         ::testing::Values(std::string(testing::kTinyDir),
                                           std::string(testing::kTinyDir) + "/original"));

}  // namespace
}  // namespace warden::model
