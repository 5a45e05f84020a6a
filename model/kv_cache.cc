#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace warden::model {
namespace {
// Full-attention storage grows in steps of this many positions.
constexpr int64_t kGrowPositions = 256;
}  // namespace

bool KvBudget::TryReserve(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes > limit_ - used_) return false;
  used_ += bytes;
  return true;
}

void KvBudget::Release(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  used_ -= bytes;
}

int64_t KvBudget::used() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return used_;
}

SequenceKvCache::SequenceKvCache(const ModelConfig& config, KvBudget* budget)
    : window_(config.sliding_window),
      row_(config.num_kv_heads * config.head_dim),
      stride_(KvRowStride(config)),
      budget_(budget) {
  for (AttentionType type : config.layer_types) {
    Layer layer;
    layer.sliding = type == AttentionType::kSliding;
    layers_.push_back(std::move(layer));
  }
}

SequenceKvCache::~SequenceKvCache() { budget_->Release(reserved_bytes_); }

namespace {

// Positions a layer holds for a sequence of `length`: grown in steps of kGrowPositions,
// at most the window for a sliding layer.
int64_t Capacity(bool sliding, int window, int64_t length) {
  const int64_t grown = (length + kGrowPositions - 1) / kGrowPositions * kGrowPositions;
  return sliding ? std::min<int64_t>(grown, window) : grown;
}

}  // namespace

int KvRowStride(const ModelConfig& config) {
  constexpr int kLineFloats = 16;
  const int row = config.num_kv_heads * config.head_dim;
  return row % (8 * kLineFloats) == 0 ? row + kLineFloats : row;
}

int64_t KvBytesForLength(const ModelConfig& config, int64_t length) {
  int64_t positions = 0;
  for (AttentionType type : config.layer_types) {
    positions += Capacity(type == AttentionType::kSliding, config.sliding_window, length);
  }
  return positions * 2 * KvRowStride(config) * static_cast<int64_t>(sizeof(float));
}

int64_t SequenceKvCache::CapacityFor(const Layer& layer, int64_t length) const {
  return Capacity(layer.sliding, window_, length);
}

absl::Status SequenceKvCache::Reserve(int64_t new_length) {
  int64_t extra_positions = 0;
  for (const Layer& layer : layers_) {
    extra_positions += std::max<int64_t>(0, CapacityFor(layer, new_length) - layer.capacity);
  }
  const int64_t extra_bytes = extra_positions * 2 * stride_ * static_cast<int64_t>(sizeof(float));
  if (extra_bytes == 0) return absl::OkStatus();
  if (!budget_->TryReserve(extra_bytes)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("KV cache budget exhausted: a sequence of ", new_length, " positions needs ",
                     extra_bytes, " more bytes; ", budget_->used(), " of ", budget_->limit(),
                     " bytes are in use"));
  }
  reserved_bytes_ += extra_bytes;
  for (Layer& layer : layers_) {
    const int64_t capacity = CapacityFor(layer, new_length);
    if (capacity <= layer.capacity) continue;
    if (layer.sliding) {
      // Ring slots are position % capacity; re-place the held positions for the new capacity.
      std::vector<float> keys(capacity * stride_), values(capacity * stride_);
      const int64_t first = std::max<int64_t>(0, length_ - layer.capacity);
      for (int64_t p = first; p < length_; ++p) {
        std::memcpy(&keys[(p % capacity) * stride_], &layer.keys[Slot(layer, p) * stride_], row_ * sizeof(float));
        std::memcpy(&values[(p % capacity) * stride_], &layer.values[Slot(layer, p) * stride_], row_ * sizeof(float));
      }
      layer.keys.swap(keys);
      layer.values.swap(values);
    } else {
      layer.keys.resize(capacity * stride_);
      layer.values.resize(capacity * stride_);
    }
    layer.capacity = capacity;
  }
  return absl::OkStatus();
}

int64_t SequenceKvCache::Slot(const Layer& layer, int64_t position) const {
  return layer.sliding ? position % layer.capacity : position;
}

void SequenceKvCache::Store(int layer_index, int64_t position, const float* key, const float* value) {
  Layer& layer = layers_[layer_index];
  const int64_t slot = Slot(layer, position);
  std::memcpy(&layer.keys[slot * stride_], key, row_ * sizeof(float));
  std::memcpy(&layer.values[slot * stride_], value, row_ * sizeof(float));
}

const float* SequenceKvCache::Key(int layer_index, int64_t position) const {
  const Layer& layer = layers_[layer_index];
  return &layer.keys[Slot(layer, position) * stride_];
}

const float* SequenceKvCache::Value(int layer_index, int64_t position) const {
  const Layer& layer = layers_[layer_index];
  return &layer.values[Slot(layer, position) * stride_];
}

void SequenceKvCache::MarkLost(const absl::Status& cause) {
  if (lost_.ok()) lost_ = cause.ok() ? absl::InternalError("a forward pass failed") : cause;
}

absl::StatusOr<std::unique_ptr<SequenceKvCache>> SequenceKvCache::Clone() const {
  if (!lost_.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot fork a lost KV cache: ", lost_.message()));
  }
  if (!budget_->TryReserve(reserved_bytes_)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("KV cache budget exhausted: forking a sequence needs ", reserved_bytes_,
                     " bytes; ", budget_->used(), " of ", budget_->limit(), " are in use"));
  }
  std::unique_ptr<SequenceKvCache> copy(new SequenceKvCache(budget_));
  copy->window_ = window_;
  copy->row_ = row_;
  copy->stride_ = stride_;
  copy->layers_ = layers_;
  copy->length_ = length_;
  copy->reserved_bytes_ = reserved_bytes_;
  return copy;
}

}  // namespace warden::model
