#include "tests/model/random_checkpoint.h"

#include <algorithm>
#include <cmath>
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

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double max = 0;
  for (size_t i = 0; i < a.size(); ++i) max = std::max(max, std::fabs(double{a[i]} - b[i]));
  return max;
}

double MaxAbs(const std::vector<float>& v) {
  double max = 0;
  for (float x : v) max = std::max(max, std::fabs(double{x}));
  return max;
}

}  // namespace warden::model::testing
