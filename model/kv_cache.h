// Attention key/value storage per sequence, with one memory budget shared by all sequences.
//
// Full-attention layers keep every position; sliding-window layers keep only the last
// `sliding_window` positions in a ring buffer. Storage grows in chunks and is reserved
// against a KvBudget before use, so a sequence that does not fit fails with
// RESOURCE_EXHAUSTED before any computation rather than in the middle of one.
#ifndef WARDEN_MODEL_KV_CACHE_H_
#define WARDEN_MODEL_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/config.h"

namespace warden::model {

// A byte budget shared by every cache of an engine. Thread-safe.
class KvBudget {
 public:
  explicit KvBudget(int64_t limit_bytes) : limit_(limit_bytes) {}
  // Reserves `bytes`, or returns false (reserving nothing) when they do not fit.
  bool TryReserve(int64_t bytes);
  void Release(int64_t bytes);
  int64_t used() const;
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  mutable std::mutex mutex_;
  int64_t used_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Bytes a sequence of `length` positions holds in the budget (what Reserve(length) takes
// from an empty cache): the engine refuses a prompt whose cache could never fit.
int64_t KvBytesForLength(const ModelConfig& config, int64_t length);

// Floats between consecutive positions' rows in a layer: the row (num_kv_heads * head_dim
// floats), plus one cache line when the row is a multiple of 8 lines (at most 1/8 more).
// Attention reads one kv head's slice of many positions; unpadded, gpt-oss rows are 32
// lines (2 KiB) apart, so those slices map to 2 of L1's 64 sets (and few of L2's) and a
// block of positions evicted itself. An odd number of lines between rows spreads them over
// all sets (kernels_bench BM_AttendHeads, 1,016 positions, 16 rows, one thread: 24 -> 49
// GFLOP/s). Shorter rows already start on many different sets.
int KvRowStride(const ModelConfig& config);

// The key/value cache of one sequence. Not thread-safe: one thread at a time (the engine
// serialises access). Owns its storage; holds a pointer to the budget, which must outlive it.
class SequenceKvCache {
 public:
  SequenceKvCache(const ModelConfig& config, KvBudget* budget);
  ~SequenceKvCache();
  SequenceKvCache(const SequenceKvCache&) = delete;
  SequenceKvCache& operator=(const SequenceKvCache&) = delete;

  // A copy of this cache's state (the prefix cache), reserving its bytes in the budget.
  absl::StatusOr<std::unique_ptr<SequenceKvCache>> Clone() const;

  // Number of positions processed so far (the next token's position).
  int64_t length() const { return length_; }
  // Makes room for positions [0, new_length); RESOURCE_EXHAUSTED if the budget is short.
  absl::Status Reserve(int64_t new_length);
  // Stores the key and value rows (num_kv_heads * head_dim floats) of `position` in `layer`.
  // The position must be < the reserved length. Sliding layers overwrite position - window.
  void Store(int layer, int64_t position, const float* key, const float* value);
  // Rows of a stored position still held (sliding layers: within the last window).
  const float* Key(int layer, int64_t position) const;
  const float* Value(int layer, int64_t position) const;
  void set_length(int64_t length) { length_ = length; }
  int64_t reserved_bytes() const { return reserved_bytes_; }
  // A forward pass that fails after storing some of its rows leaves the cache inconsistent
  // (sliding layers overwrite the oldest positions in place; the length may or may not have
  // moved): it is marked lost with that failure (the first one is kept), and the engine
  // refuses further steps on it. OK while intact.
  void MarkLost(const absl::Status& cause);
  const absl::Status& lost() const { return lost_; }

 private:
  struct Layer {
    bool sliding = false;
    int64_t capacity = 0;  // positions
    std::vector<float> keys, values;
  };
  explicit SequenceKvCache(KvBudget* budget) : budget_(budget) {}
  int64_t Slot(const Layer& layer, int64_t position) const;
  int64_t CapacityFor(const Layer& layer, int64_t length) const;

  int window_ = 0;
  int row_ = 0;     // floats per position
  int stride_ = 0;  // floats between positions: KvRowStride
  KvBudget* budget_;
  std::vector<Layer> layers_;
  int64_t length_ = 0;
  int64_t reserved_bytes_ = 0;
  absl::Status lost_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KV_CACHE_H_
