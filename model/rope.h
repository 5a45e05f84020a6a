// Rotary position embedding frequencies with YaRN scaling, as gpt-oss computes them.
// Thread safety: immutable after construction.
#ifndef WARDEN_MODEL_ROPE_H_
#define WARDEN_MODEL_ROPE_H_

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace warden::model {

class RopeTable {
 public:
  explicit RopeTable(const ModelConfig& config);

  // Writes head_dim/2 cosines and sines for `position`, both scaled by the YaRN
  // concentration 0.1*ln(factor) + 1.
  void Angles(int64_t position, float* cos, float* sin) const;
  int half() const { return static_cast<int>(inv_freq_.size()); }

 private:
  std::vector<float> inv_freq_;
  float concentration_ = 1.0f;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_ROPE_H_
