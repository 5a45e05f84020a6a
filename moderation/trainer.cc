#include "moderation/trainer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/fast_classifier.h"
#include "moderation/features.h"
#include "moderation/metrics.h"
#include "moderation/model_file.h"
#include "moderation/train_common.h"
#include "moderation/text_fold.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;

struct Parameters {
  std::vector<float> w, g;  // [bucket][C] weights and AdaGrad accumulators
  std::array<float, C> bias{}, bias_g{};
};

void Accumulate(const Parameters& p, Parameters& sum, int& count) {
  for (size_t i = 0; i < p.w.size(); ++i) sum.w[i] += p.w[i];
  for (int c = 0; c < C; ++c) sum.bias[c] += p.bias[c];
  ++count;
}

// One AdaGrad step on one example; returns its summed log loss over known labels.
double Step(const FeatureConfig& config, const std::vector<uint32_t>& features, const Example& e,
            const std::array<float, C>& pos_weight, float row_weight, float lr, float l2,
            Parameters& p, SourceOffsets& offsets, size_t row) {
  const float norm = LengthNorm(config, features.size());
  std::array<float, C> logit = p.bias;
  offsets.AddTo(row, logit);
  for (const uint32_t f : features) {
    const float* w = &p.w[size_t{f} * C];
    for (int c = 0; c < C; ++c) logit[c] += norm * w[c];
  }
  std::array<float, C> grad{};
  double loss = 0;
  for (int c = 0; c < C; ++c) {
    if (e.labels[c] == Label::kUnknown) continue;
    const float prob = 1.0f / (1.0f + std::exp(-logit[c]));
    const bool y = e.labels[c] == Label::kPositive;
    const float weight = row_weight * (y ? pos_weight[c] : 1.0f);
    grad[c] = weight * (prob - (y ? 1.0f : 0.0f));
    loss -= std::log(std::max(y ? prob : 1.0f - prob, 1e-7f));
  }
  offsets.Update(row, grad, lr);
  for (int c = 0; c < C; ++c) {
    p.bias_g[c] += grad[c] * grad[c];
    p.bias[c] -= lr * grad[c] / std::sqrt(p.bias_g[c] + 1e-6f);
  }
  for (const uint32_t f : features) {
    float* w = &p.w[size_t{f} * C];
    float* g = &p.g[size_t{f} * C];
    for (int c = 0; c < C; ++c) {
      const float gc = grad[c] * norm + l2 * w[c];
      g[c] += gc * gc;
      w[c] -= lr * gc / std::sqrt(g[c] + 1e-6f);
    }
  }
  return loss;
}

FastModel Quantise(const Parameters& p, const TrainOptions& options) {
  FastModel model;
  model.features = options.features;
  model.text_fold_version = kTextFoldVersion;
  model.id = options.id;
  model.bias = p.bias;
  model.threshold.fill(options.fallback_threshold);
  std::array<float, C> max_abs{};
  for (size_t i = 0; i < p.w.size(); ++i) {
    max_abs[i % C] = std::max(max_abs[i % C], std::fabs(p.w[i]));
  }
  for (int c = 0; c < C; ++c) model.scale[c] = max_abs[c] > 0 ? max_abs[c] / 127.0f : 1.0f;
  model.weights.resize(p.w.size());
  for (size_t i = 0; i < p.w.size(); ++i) {
    const float q = std::round(p.w[i] / model.scale[i % C]);
    model.weights[i] = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
  }
  return model;
}

ThresholdOptions ThresholdChoice(const TrainOptions& options) {
  ThresholdOptions out;
  out.beta = options.threshold_beta;
  out.min_dev_positives = options.min_dev_positives;
  out.fallback = options.fallback_threshold;
  out.min_threshold = options.min_threshold;
  return out;
}

}  // namespace

absl::StatusOr<FastModel> Train(const std::vector<Example>& examples, const TrainOptions& options,
                                TrainReport* report) {
  RETURN_IF_ERROR(ValidateFeatureConfig(options.features));
  if (examples.empty()) return absl::InvalidArgumentError("no training examples");
  if (options.epochs < 1 || !(options.learning_rate > 0)) {
    return absl::InvalidArgumentError("epochs must be >= 1 and learning_rate > 0");
  }
  std::vector<const Example*> train, dev;
  for (const Example& e : examples) {
    (IsDevRow(e, options.dev_percent, options.dev_split) ? dev : train).push_back(&e);
  }
  if (train.empty()) return absl::InvalidArgumentError("every example fell into the dev split");

  // Features are extracted once; the order of rows is shuffled per epoch.
  std::vector<std::vector<uint32_t>> features(train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    ExtractFeatures(FoldText(train[i]->text), options.features, &features[i]);
  }
  Parameters p;
  const size_t buckets = size_t{1} << options.features.buckets_log2;
  p.w.assign(buckets * C, 0.0f);
  p.g.assign(buckets * C, 0.0f);
  const std::array<float, C> pos_weight = PositiveWeights(train, options.max_positive_weight);
  p.bias = PriorLogOdds(train, pos_weight);
  const std::vector<float> row_weight = SourceWeights(train, options.source_balance_rows,
                                                      options.max_source_weight, options.group_sources);
  SourceOffsets offsets(train, options.source_offsets);
  std::vector<size_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(options.seed);
  Parameters sum;  // running sum of epoch-end weights (g unused)
  int averaged = 0;
  if (options.average_from_epoch > 0) sum.w.assign(p.w.size(), 0.0f);
  TrainReport local;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Next() % i]);
    double loss = 0;
    for (const size_t i : order) {
      loss += Step(options.features, features[i], *train[i], pos_weight, row_weight[i], options.learning_rate,
                   options.l2, p, offsets, i);
    }
    local.epoch_loss.push_back(loss / train.size());
    if (options.average_from_epoch > 0 && epoch + 1 >= options.average_from_epoch) {
      Accumulate(p, sum, averaged);
    }
  }
  if (averaged > 0) {
    for (size_t i = 0; i < p.w.size(); ++i) p.w[i] = sum.w[i] / averaged;
    for (int c = 0; c < C; ++c) p.bias[c] = sum.bias[c] / averaged;
  }
  FastModel model = Quantise(p, options);
  ASSIGN_OR_RETURN(const auto classifier, FastClassifier::FromModel(model));
  model.threshold = ChooseThresholds(
      dev, [&](const std::string& text) { return classifier->Score(text).scores; },
      ThresholdChoice(options));
  local.train_rows = static_cast<int>(train.size());
  local.dev_rows = static_cast<int>(dev.size());
  if (report != nullptr) *report = local;
  return model;
}

}  // namespace warden::moderation
