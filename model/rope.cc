#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace warden::model {

RopeTable::RopeTable(const ModelConfig& config) {
  const RopeConfig& rope = config.rope;
  const int d = config.head_dim;
  const int half = d / 2;
  const double kPi = 3.14159265358979323846;
  const double theta_log = std::log(static_cast<double>(rope.theta));
  // YaRN: dimensions below `low` keep their frequency (extrapolation), above `high` are
  // divided by `factor` (interpolation), with a linear ramp in between.
  double low = half * std::log(rope.original_context / (rope.beta_fast * 2 * kPi)) / theta_log;
  double high = half * std::log(rope.original_context / (rope.beta_slow * 2 * kPi)) / theta_log;
  if (rope.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  // As Hugging Face: the ends stay within the head's dimensions (a no-op for gpt-oss, whose
  // ramp runs from about 8.1 to 17.4 of 32), and a ramp of zero width gets a small one.
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(d - 1));
  if (high == low) high += 0.001;
  for (int i = 0; i < half; ++i) {
    const float freq = std::pow(rope.theta, static_cast<float>(2 * i) / static_cast<float>(d));
    float inv = 1.0f / freq;
    if (rope.factor > 1.0f) {
      const float ramp = static_cast<float>(std::clamp((i - low) / (high - low), 0.0, 1.0));
      inv = 1.0f / (rope.factor * freq) * ramp + 1.0f / freq * (1.0f - ramp);
    }
    inv_freq_.push_back(inv);
  }
  if (rope.factor > 1.0f) concentration_ = 0.1f * std::log(rope.factor) + 1.0f;
}

void RopeTable::Angles(int64_t position, float* cos, float* sin) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const float angle = static_cast<float>(position) * inv_freq_[i];
    cos[i] = std::cos(angle) * concentration_;
    sin[i] = std::sin(angle) * concentration_;
  }
}

}  // namespace warden::model
