// The engine runner's options as the server builds them from its config's model settings.
#include <gtest/gtest.h>

#include "gateway/config_loader.h"
#include "gateway/engine_runner.h"

namespace warden::gateway {
namespace {

TEST(EngineRunnerOptionsFrom, UnsetFieldsKeepTheDefaults) {
  const EngineRunnerOptions options = EngineRunnerOptionsFrom(v1::ModelSettings());
  const EngineRunnerOptions defaults;
  EXPECT_EQ(options.generation_workers, kDefaultRunningSequences);
  EXPECT_EQ(options.kv_cache_bytes, defaults.kv_cache_bytes);
  EXPECT_EQ(options.knowledge_cutoff, defaults.knowledge_cutoff);
  EXPECT_EQ(options.threads, 0);
}

TEST(EngineRunnerOptionsFrom, CopiesEverySetField) {
  v1::ModelSettings settings;
  settings.set_model_dir("/models/gpt-oss-20b");
  settings.set_threads(3);
  settings.set_kv_cache_bytes(123456789);
  settings.set_weight_mode("fast");
  settings.set_weight_memory("mapped");
  settings.set_tokenizer_file("/t/o200k_base.tiktoken");
  settings.set_knowledge_cutoff("2025-01");
  settings.set_max_running_sequences(32);
  const EngineRunnerOptions options = EngineRunnerOptionsFrom(settings);
  EXPECT_EQ(options.model_dir, "/models/gpt-oss-20b");
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.kv_cache_bytes, 123456789);
  EXPECT_EQ(options.weight_mode, "fast");
  EXPECT_EQ(options.weight_memory, "mapped");
  EXPECT_EQ(options.tokenizer_file, "/t/o200k_base.tiktoken");
  EXPECT_EQ(options.knowledge_cutoff, "2025-01");
  EXPECT_EQ(options.generation_workers, 32);
}

// The config loader refuses more; a settings message built in code is clamped, not trusted.
TEST(EngineRunnerOptionsFrom, RunningSequencesAreClampedToTheLimit) {
  v1::ModelSettings settings;
  settings.set_max_running_sequences(100000);
  EXPECT_EQ(EngineRunnerOptionsFrom(settings).generation_workers, kMaxRunningSequences);
}

}  // namespace
}  // namespace warden::gateway
