// The softmax step the vector attention kernels share (internal to model/kernels;
// header-only): each kernel brings its own vectorised exp. Pure function: thread-safe.
#ifndef WARDEN_MODEL_KERNELS_SOFTMAX_SCORES_H_
#define WARDEN_MODEL_KERNELS_SOFTMAX_SCORES_H_

#include <algorithm>
#include <cmath>

namespace warden::model::softmax_scores {

// Replaces scores[0, n) by exp(score - max), max taken over the scores and the sink, with
// exp_in_place(scores, n, max) (which returns the sum of the exps); returns
// 1 / (that sum + exp(sink - max)), the softmax's normalisation, which the kernels apply
// once to the output rather than to every weight.
template <typename ExpInPlace>
inline float ExpScoresAndInverse(float* scores, int n, float sink, ExpInPlace exp_in_place) {
  float max = sink;
  for (int p = 0; p < n; ++p) max = std::max(max, scores[p]);
  return 1.0f / (exp_in_place(scores, n, max) + std::exp(sink - max));
}

}  // namespace warden::model::softmax_scores

#endif  // WARDEN_MODEL_KERNELS_SOFTMAX_SCORES_H_
