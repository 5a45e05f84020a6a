// Random checkpoints for engine tests that need no reference numbers: one small "odd"
// shape, written once per test process, and a loader with the tests' usual options.
#ifndef WARDEN_TESTS_MODEL_RANDOM_CHECKPOINT_H_
#define WARDEN_TESTS_MODEL_RANDOM_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "model/checkpoint_writer.h"
#include "model/config.h"
#include "model/engine.h"

namespace warden::model::testing {

inline constexpr int kOddShapeWindow = 4;
inline constexpr int kOddShapeVocab = 300;

// Deliberately unlike the tiny fixture: 3 layers (sliding, full, sliding), hidden 96,
// 6 query / 2 key-value heads of width 16, 5 experts with top-2, window 4, vocabulary 300.
ModelConfig OddShape();

// Writes a random checkpoint of `spec` to TempDir()/`name` the first time a name is asked
// for and returns its folder (the same folder, unwritten, on later calls). A write error
// is a test failure. Thread-safe.
std::string RandomCheckpointOnce(const std::string& name, const CheckpointSpec& spec);

// Loads `dir` with 2 kernel threads; null (and a test failure) on error.
std::unique_ptr<Engine> LoadTestEngine(const std::string& dir, int64_t kv_budget_bytes,
                                       WeightMode weight_mode = WeightMode::kExact);

}  // namespace warden::model::testing

#endif  // WARDEN_TESTS_MODEL_RANDOM_CHECKPOINT_H_
