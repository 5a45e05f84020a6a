// The decode loop allocates nothing once warm: Engine::Step with reused outputs and the
// sampler, and the scheduler's loop around them, counted by replacing the global operator
// new in this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "model/engine.h"
#include "model/sampler.h"
#include "model/scheduler.h"
#include "tests/model/random_checkpoint.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// The replacements pair malloc with free; GCC cannot see that operator new here is
// malloc and would warn about every delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace warden::model {
namespace {

std::unique_ptr<Engine> LoadEngine(WeightMode mode) {
  CheckpointSpec spec;
  spec.config = testing::OddShape();
  spec.seed = 5;
  return testing::LoadTestEngine(testing::RandomCheckpointOnce("alloc_shape", spec), 16 << 20, mode);
}

// Decodes `steps` tokens for two sequences in one batch, sampling with a temperature;
// returns the allocations counted during the last `steps - warmup` steps.
long AllocationsWhileDecoding(Engine& engine, int steps, int warmup) {
  std::vector<StepInput> inputs(2);
  std::vector<Sampler> samplers;
  for (int s = 0; s < 2; ++s) {
    inputs[s].sequence = engine.CreateSequence();
    inputs[s].tokens = {1, 2, 3, 4, 5};
    SamplingOptions options;
    options.temperature = 0.8f;
    options.top_p = 0.9f;
    options.seed = static_cast<uint64_t>(s);
    samplers.emplace_back(options);
  }
  std::vector<StepOutput> outputs;
  for (int step = 0; step < steps; ++step) {
    if (step == warmup) counting = true;
    if (!engine.Step(inputs, &outputs).ok()) break;
    for (int s = 0; s < 2; ++s) inputs[s].tokens.assign(1, samplers[s].Sample(outputs[s].logits) % 300);
  }
  counting = false;
  return allocations.exchange(0);
}

TEST(DecodeAllocation, WarmDecodeStepsAllocateNothingInExactMode) {
  auto engine = LoadEngine(WeightMode::kExact);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(AllocationsWhileDecoding(*engine, 12, 4), 0);
}

TEST(DecodeAllocation, WarmDecodeStepsAllocateNothingInFastMode) {
  auto engine = LoadEngine(WeightMode::kFast);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(AllocationsWhileDecoding(*engine, 12, 4), 0);
}

// Two concurrent streamed requests through the scheduler; allocations are counted over 12
// of the first one's tokens once both are decoding. The window opens only after the second
// request has delivered tokens: on a loaded machine it can be admitted many steps after the
// first (CI once counted its admission's allocations in a window fixed at tokens 8-20).
TEST(DecodeAllocation, WarmSchedulerStepsAllocateNothing) {
  auto engine = LoadEngine(WeightMode::kExact);
  ASSERT_NE(engine, nullptr);
  SchedulerOptions options;
  options.max_running = 2;
  auto scheduler = Scheduler::Create(engine.get(), options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  GenerateOptions generate;
  generate.max_tokens = 48;
  generate.temperature = 0.0f;
  constexpr int kWindowTokens = 12;
  std::atomic<int> second_tokens{0};
  int first_tokens = 0, window_start = -1;
  auto first = (*scheduler)->Submit({1, 2, 3, 4}, generate, [&](int32_t) {
    ++first_tokens;
    if (window_start < 0 && first_tokens >= 8 && second_tokens.load() >= 2) {
      window_start = first_tokens;
      counting = true;
    }
    if (window_start >= 0 && first_tokens == window_start + kWindowTokens) counting = false;
    return true;
  });
  auto second = (*scheduler)->Submit({5, 6, 7}, generate, [&](int32_t) {
    second_tokens.fetch_add(1);
    return true;
  });
  ASSERT_TRUE(first->Wait().ok());
  ASSERT_TRUE(second->Wait().ok());
  counting = false;
  EXPECT_EQ(first_tokens, 48);
  EXPECT_EQ(second_tokens.load(), 48);
  // The window closed before the first request's last token (so it saw only decode steps
  // of two running sequences).
  ASSERT_GE(window_start, 8) << "the second request never decoded beside the first";
  ASSERT_LT(window_start + kWindowTokens, 48) << "the second request was admitted too late for a window";
  EXPECT_EQ(allocations.exchange(0), 0);
}

}  // namespace
}  // namespace warden::model
