// The LLM policy classifier's engine adapter on a real (random, small) checkpoint: prompts
// are prefilled in chunks with the deadline checked between them, a spent budget is
// DeadlineExceeded, and a prompt that fills the model's context is refused before any work.
#include "moderation/engine_llm_backend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "model/engine.h"
#include "model/kv_cache.h"
#include "tests/model/random_checkpoint.h"

namespace warden::moderation {
namespace {

std::unique_ptr<model::Engine> LoadEngine(int64_t context, int64_t kv_budget = 64 << 20) {
  model::CheckpointSpec spec;
  spec.config = model::testing::OddShape();
  spec.config.max_position_embeddings = context;
  spec.seed = 7;
  return model::testing::LoadTestEngine(
      model::testing::RandomCheckpointOnce("llm_backend_ctx" + std::to_string(context), spec), kv_budget);
}

std::vector<uint32_t> Tokens(int n, int salt) {
  std::vector<uint32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = static_cast<uint32_t>((i * 31 + salt * 17 + 3) % model::testing::kOddShapeVocab);
  return t;
}

std::vector<int32_t> EngineIds(const std::vector<uint32_t>& ids, size_t begin, size_t end) {
  return std::vector<int32_t>(ids.begin() + begin, ids.begin() + end);
}

// Probabilities of `labels` after `prefix_ids` and then `content` prefilled in pieces of
// `chunk` tokens on a fresh sequence, computed by hand; every piece of a text at the
// precision PrefillPrecision gives the whole text, unless `precision` says otherwise.
std::vector<float> ByHand(model::Engine& engine, const std::vector<uint32_t>& prefix_ids,
                          const std::vector<uint32_t>& content, size_t chunk, absl::Span<const uint32_t> labels,
                          std::optional<model::ActivationPrecision> precision = std::nullopt) {
  const model::SequenceId seq = engine.CreateSequence();
  std::vector<float> logits;
  for (const std::vector<uint32_t>* ids : {&prefix_ids, &content}) {
    const model::ActivationPrecision piece_precision =
        precision.value_or(model::PrefillPrecision(static_cast<int64_t>(ids->size())));
    for (size_t begin = 0; begin < ids->size(); begin += chunk) {
      auto out = engine.Prefill(seq, EngineIds(*ids, begin, std::min(ids->size(), begin + chunk)),
                                /*all_positions=*/false, piece_precision);
      EXPECT_TRUE(out.ok()) << out.status();
      if (!out.ok()) return {};
      logits = *out;
    }
  }
  (void)engine.ReleaseSequence(seq);
  const float max = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (float l : logits) total += std::exp(double{l} - max);
  std::vector<float> probs;
  for (uint32_t label : labels) probs.push_back(static_cast<float>(std::exp(double{logits[label]} - max) / total));
  return probs;
}

// The backend prefills a 40-token prompt and a 40-token text in 16-token steps (3 each), and
// gives every step of a text the text's precision (40 tokens: rounded to bf16), so a verdict
// does not depend on the chunk size; 16-token pieces at float32 differ, which shows that
// the precision is what the comparison sees.
TEST(EngineLlmBackend, PromptsArePrefilledInChunksAtTheTextsPrecision) {
  auto engine = LoadEngine(4096);
  ASSERT_NE(engine, nullptr);
  constexpr size_t kChunk = 16;
  const EngineLlmBackend backend(engine.get(), nullptr, kChunk);
  const std::vector<uint32_t> prefix_ids = Tokens(40, 1), content = Tokens(40, 2);
  const uint32_t labels[] = {3, 7};
  const int64_t steps_before = engine->steps_run();
  auto prefix = backend.PrefillPrefix(prefix_ids, absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  auto probs = backend.ScoreLabels(**prefix, content, labels, absl::InfiniteFuture());
  ASSERT_TRUE(probs.ok()) << probs.status();
  EXPECT_EQ(engine->steps_run() - steps_before, 3 + 3);
  const std::vector<float> chunked = ByHand(*engine, prefix_ids, content, kChunk, labels);
  const std::vector<float> float_chunks =
      ByHand(*engine, prefix_ids, content, kChunk, labels, model::ActivationPrecision::kFloat32);
  ASSERT_EQ(probs->size(), 2u);
  ASSERT_EQ(chunked.size(), 2u);
  ASSERT_EQ(float_chunks.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FLOAT_EQ((*probs)[i], chunked[i]) << i;
    EXPECT_GT(std::fabs(chunked[i] - float_chunks[i]), 1e-3 * chunked[i]) << i;
  }
}

TEST(EngineLlmBackend, SpentBudgetIsDeadlineExceededAndTheNextCallWorks) {
  auto engine = LoadEngine(4096);
  ASSERT_NE(engine, nullptr);
  const EngineLlmBackend backend(engine.get(), nullptr);
  const std::vector<uint32_t> prefix_ids = Tokens(30, 3);
  EXPECT_EQ(backend.PrefillPrefix(prefix_ids, absl::InfinitePast()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  auto prefix = backend.PrefillPrefix(prefix_ids, absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  const uint32_t labels[] = {1, 2};
  EXPECT_EQ(backend.ScoreLabels(**prefix, Tokens(10, 4), labels, absl::InfinitePast()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(backend.ScoreLabels(**prefix, Tokens(10, 4), labels, absl::InfiniteFuture()).ok());
}

// A caller that cancels (a client gone) stops the work between chunks, as a spent budget
// does: the cancellation is asked before each 16-token step and raised after two of them.
TEST(EngineLlmBackend, CancelledCallerStopsBetweenChunksAndTheNextCallWorks) {
  auto engine = LoadEngine(4096);
  ASSERT_NE(engine, nullptr);
  constexpr size_t kChunk = 16;
  const EngineLlmBackend backend(engine.get(), nullptr, kChunk);
  auto asked = std::make_shared<int>(0);
  const Deadline cancelled_after_two_steps(absl::InfiniteFuture(), [asked] { return ++*asked > 2; });
  const int64_t steps_before = engine->steps_run();
  const auto stopped = backend.PrefillPrefix(Tokens(100, 5), cancelled_after_two_steps);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled) << stopped.status();
  EXPECT_NE(stopped.status().message().find("after 32 of"), std::string::npos) << stopped.status();
  EXPECT_EQ(engine->steps_run() - steps_before, 2);  // Not the 7 steps of the whole prompt.

  auto prefix = backend.PrefillPrefix(Tokens(20, 5), absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  const uint32_t labels[] = {1, 2};
  *asked = 0;
  EXPECT_EQ(backend.ScoreLabels(**prefix, Tokens(100, 6), labels, cancelled_after_two_steps).status().code(),
            absl::StatusCode::kCancelled);
  *asked = 0;
  const std::vector<std::vector<uint32_t>> texts = {Tokens(60, 7), Tokens(70, 8)};
  for (const auto& result : backend.ScoreLabelsBatch(**prefix, texts, labels, cancelled_after_two_steps)) {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled) << result.status();
  }
  EXPECT_TRUE(backend.ScoreLabels(**prefix, Tokens(10, 4), labels, absl::InfiniteFuture()).ok());
}

TEST(EngineLlmBackend, PromptFillingTheContextIsRefused) {
  auto engine = LoadEngine(40);
  ASSERT_NE(engine, nullptr);
  const EngineLlmBackend backend(engine.get(), nullptr);
  const auto too_long = backend.PrefillPrefix(Tokens(40, 5), absl::InfiniteFuture());
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("context holds 40"), std::string::npos) << too_long.status();
  auto prefix = backend.PrefillPrefix(Tokens(20, 5), absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  const uint32_t labels[] = {1, 2};
  EXPECT_EQ(backend.ScoreLabels(**prefix, Tokens(20, 6), labels, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend.ScoreLabels(**prefix, Tokens(19, 6), labels, absl::InfiniteFuture()).ok());
}

TEST(EngineLlmBackend, PromptWhoseCacheCannotFitIsRefusedBeforeAnyWork) {
  const model::ModelConfig shape = model::testing::OddShape();
  const int64_t budget = model::KvBytesForLength(shape, 600);
  auto engine = LoadEngine(4096, budget);
  ASSERT_NE(engine, nullptr);
  const EngineLlmBackend backend(engine.get(), nullptr);
  const auto too_big = backend.PrefillPrefix(Tokens(1200, 8), absl::InfiniteFuture());
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted) << too_big.status();
  // The backend's own check, not the KV cache failing part-way through the prefill.
  EXPECT_NE(too_big.status().message().find("LLM policy classifier"), std::string::npos) << too_big.status();
  EXPECT_EQ(engine->kv_bytes_in_use(), 0);
  // A prefix that fits alone but not together with the fork every use makes of it (a copy
  // of its cache plus a text): refused too, rather than cached and never usable.
  ASSERT_LE(model::KvBytesForLength(shape, 401), budget);
  ASSERT_GT(model::KvBytesForLength(shape, 402) + model::KvBytesForLength(shape, 400), budget);
  const auto unusable = backend.PrefillPrefix(Tokens(400, 8), absl::InfiniteFuture());
  EXPECT_EQ(unusable.status().code(), absl::StatusCode::kResourceExhausted) << unusable.status();
  EXPECT_EQ(engine->kv_bytes_in_use(), 0);
  // A prefix that fits, and a text whose fork (a copy of the prefix plus the text) does not.
  auto prefix = backend.PrefillPrefix(Tokens(200, 8), absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  const uint32_t labels[] = {1, 2};
  EXPECT_EQ(backend.ScoreLabels(**prefix, Tokens(400, 9), labels, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(backend.ScoreLabels(**prefix, Tokens(20, 9), labels, absl::InfiniteFuture()).ok());
}

// Contents run together give each content the probabilities it gets alone: few enough rows
// that both ways run the float32 path; a chunk of 4 makes the shorter contents finish
// steps before the longer ones. The forks are released afterwards.
TEST(EngineLlmBackend, BatchGivesEachContentItsOwnProbabilities) {
  auto engine = LoadEngine(4096);
  ASSERT_NE(engine, nullptr);
  for (size_t chunk : {size_t{512}, size_t{4}}) {
    const EngineLlmBackend backend(engine.get(), nullptr, chunk);
    auto prefix = backend.PrefillPrefix(Tokens(30, 11), absl::InfiniteFuture());
    ASSERT_TRUE(prefix.ok()) << prefix.status();
    const int64_t kv_before = engine->kv_bytes_in_use();
    const std::vector<std::vector<uint32_t>> contents = {Tokens(5, 12), Tokens(9, 13), Tokens(12, 14)};
    const uint32_t labels[] = {3, 7, 11};
    const auto batch = backend.ScoreLabelsBatch(**prefix, contents, labels, absl::InfiniteFuture());
    ASSERT_EQ(batch.size(), contents.size());
    EXPECT_EQ(engine->kv_bytes_in_use(), kv_before);
    for (size_t i = 0; i < contents.size(); ++i) {
      ASSERT_TRUE(batch[i].ok()) << batch[i].status();
      const auto alone = backend.ScoreLabels(**prefix, contents[i], labels, absl::InfiniteFuture());
      ASSERT_TRUE(alone.ok()) << alone.status();
      ASSERT_EQ(batch[i]->size(), 3u);
      for (int l = 0; l < 3; ++l) {
        EXPECT_NEAR((*batch[i])[l], (*alone)[l], 1e-4 * (*alone)[l]) << "chunk " << chunk << " content " << i;
      }
    }
  }
}

// More contents than run together at once, one of them empty: the empty one gets its own
// error, every other one its result; a spent budget fails them all and keeps no fork.
TEST(EngineLlmBackend, BatchErrorsAreEachContentsOwn) {
  auto engine = LoadEngine(4096);
  ASSERT_NE(engine, nullptr);
  const EngineLlmBackend backend(engine.get(), nullptr);
  auto prefix = backend.PrefillPrefix(Tokens(20, 15), absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  std::vector<std::vector<uint32_t>> contents;
  for (int i = 0; i < static_cast<int>(EngineLlmBackend::kMaxBatchSequences) + 3; ++i) {
    contents.push_back(Tokens(2 + i % 3, 16 + i));
  }
  contents[4].clear();
  const uint32_t labels[] = {1, 2};
  const auto batch = backend.ScoreLabelsBatch(**prefix, contents, labels, absl::InfiniteFuture());
  ASSERT_EQ(batch.size(), contents.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i == 4) {
      EXPECT_EQ(batch[i].status().code(), absl::StatusCode::kInvalidArgument);
    } else {
      EXPECT_TRUE(batch[i].ok()) << i << ": " << batch[i].status();
    }
  }
  const int64_t kv_before = engine->kv_bytes_in_use();
  const auto late = backend.ScoreLabelsBatch(**prefix, contents, labels, absl::InfinitePast());
  for (size_t i = 0; i < late.size(); ++i) {
    EXPECT_EQ(late[i].status().code(), i == 4 ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kDeadlineExceeded)
        << i;
  }
  EXPECT_EQ(engine->kv_bytes_in_use(), kv_before);
}

// A KV budget that holds the prefix and two forks, not eight: the batch runs in groups that
// fit, and every text gets its result, as one call per text would give.
TEST(EngineLlmBackend, BatchRunsInGroupsThatFitTheKvBudget) {
  const model::ModelConfig shape = model::testing::OddShape();
  const int64_t budget = model::KvBytesForLength(shape, 200) + 5 * model::KvBytesForLength(shape, 220) / 2;
  auto engine = LoadEngine(4096, budget);
  ASSERT_NE(engine, nullptr);
  const EngineLlmBackend backend(engine.get(), nullptr);
  auto prefix = backend.PrefillPrefix(Tokens(200, 21), absl::InfiniteFuture());
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  std::vector<std::vector<uint32_t>> contents;
  for (int i = 0; i < 5; ++i) contents.push_back(Tokens(20, 22 + i));
  const uint32_t labels[] = {1, 2};
  const auto batch = backend.ScoreLabelsBatch(**prefix, contents, labels, absl::InfiniteFuture());
  ASSERT_EQ(batch.size(), contents.size());
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_TRUE(batch[i].ok()) << i << ": " << batch[i].status();
  EXPECT_EQ(engine->kv_bytes_in_use(), model::KvBytesForLength(shape, 200));
}

}  // namespace
}  // namespace warden::moderation
