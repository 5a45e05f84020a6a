#include "tests/model/random_checkpoint.h"

#include <map>
#include <mutex>

#include <gtest/gtest.h>

namespace warden::model::testing {

ModelConfig OddShape() {
  ModelConfig c;
  c.hidden_size = 96;
  c.intermediate_size = 64;
  c.num_experts = 5;
  c.experts_per_token = 2;
  c.num_heads = 6;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.vocab_size = kOddShapeVocab;
  c.sliding_window = kOddShapeWindow;
  SetLayerCount(3, &c);
  return c;
}

std::string RandomCheckpointOnce(const std::string& name, const CheckpointSpec& spec) {
  static std::mutex mu;
  static std::map<std::string, std::string>* written = new std::map<std::string, std::string>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = written->find(name);
  if (it != written->end()) return it->second;
  const std::string dir = ::testing::TempDir() + "/" + name;
  const absl::Status status = WriteRandomCheckpoint(dir, spec);
  EXPECT_TRUE(status.ok()) << status;
  return (*written)[name] = dir;
}

std::unique_ptr<Engine> LoadTestEngine(const std::string& dir, int64_t kv_budget_bytes, WeightMode weight_mode,
                                       Residency weight_memory) {
  LoadOptions options;
  options.model_dir = dir;
  options.threads = 2;
  options.kv_budget_bytes = kv_budget_bytes;
  options.weight_mode = weight_mode;
  options.weight_memory = weight_memory;
  auto engine = Engine::Load(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

}  // namespace warden::model::testing
