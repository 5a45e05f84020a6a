#include "moderation/bag_trainer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/bag_scorer.h"
#include "moderation/text_fold.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;
constexpr float kEps = 1e-6f;

// A float parameter block with its AdaGrad accumulators.
struct Block {
  std::vector<float> w, g;
  void Init(size_t n) {
    w.assign(n, 0.0f);
    g.assign(n, 0.0f);
  }
  // One AdaGrad step on w[i] with gradient `grad` (plus L2 pull `l2`).
  void Update(size_t i, float grad, float lr, float l2) {
    const float gi = grad + l2 * w[i];
    g[i] += gi * gi;
    w[i] -= lr * gi / std::sqrt(g[i] + kEps);
  }
};

// Float parameters during training; dims as in BagModel.
struct Net {
  uint32_t dim = 0, hidden = 0, inputs = 0;
  Block embeddings, hidden_weights, hidden_bias, out_weights, out_bias;
};

// Per-example scratch buffers, reused across examples.
struct Scratch {
  std::vector<float> bag, pre, x, dx, dbag;
};

void InitNet(const BagTrainOptions& o, const CategoryArray& prior, Net& n) {
  n.dim = o.dim;
  n.hidden = o.hidden;
  n.inputs = o.hidden > 0 ? o.hidden : o.dim;
  Rng rng(o.seed ^ 0x5EEDull);
  const size_t buckets = size_t{1} << o.features.buckets_log2;
  n.embeddings.Init(buckets * o.dim);
  // Small random embeddings (as fastText) break the symmetry between dimensions.
  const float e_scale = 1.0f / static_cast<float>(o.dim);
  for (float& v : n.embeddings.w) v = e_scale * rng.Symmetric();
  n.hidden_weights.Init(size_t{o.hidden} * o.dim);
  const float h_scale = std::sqrt(6.0f / static_cast<float>(o.hidden + o.dim));
  for (float& v : n.hidden_weights.w) v = h_scale * rng.Symmetric();
  n.hidden_bias.Init(o.hidden);
  n.out_weights.Init(size_t{n.inputs} * C);
  n.out_bias.Init(C);
  for (int c = 0; c < C; ++c) n.out_bias.w[c] = prior[c];
}

// Forward pass in float; fills s.bag, s.pre, s.x and returns the logits.
CategoryArray Forward(const Net& n, const FeatureConfig& config, const std::vector<uint32_t>& f,
                      Scratch& s) {
  s.bag.assign(n.dim, 0.0f);
  for (const uint32_t id : f) {
    const float* e = &n.embeddings.w[size_t{id} * n.dim];
    for (uint32_t d = 0; d < n.dim; ++d) s.bag[d] += e[d];
  }
  const float norm = LengthNorm(config, f.size());
  for (float& v : s.bag) v *= norm;
  if (n.hidden > 0) {
    s.pre.resize(n.hidden);
    s.x.resize(n.hidden);
    for (uint32_t j = 0; j < n.hidden; ++j) {
      const float* w = &n.hidden_weights.w[size_t{j} * n.dim];
      float sum = n.hidden_bias.w[j];
      for (uint32_t d = 0; d < n.dim; ++d) sum += w[d] * s.bag[d];
      s.pre[j] = sum;
      s.x[j] = std::max(sum, 0.0f);
    }
  } else {
    s.x = s.bag;
  }
  CategoryArray logit{};
  for (int c = 0; c < C; ++c) {
    const float* w = &n.out_weights.w[static_cast<size_t>(c) * n.inputs];
    float sum = n.out_bias.w[c];
    for (uint32_t k = 0; k < n.inputs; ++k) sum += w[k] * s.x[k];
    logit[c] = sum;
  }
  return logit;
}

// One AdaGrad step on one example; returns its summed log loss over known labels.
double Step(const BagTrainOptions& o, const std::vector<uint32_t>& f, const Example& e,
            const CategoryArray& pos_weight, float row_weight, Net& n, Scratch& s,
            SourceOffsets& offsets, size_t row) {
  CategoryArray logit = Forward(n, o.features, f, s);
  offsets.AddTo(row, logit);
  CategoryArray grad{};
  double loss = 0;
  for (int c = 0; c < C; ++c) {
    if (e.labels[c] == Label::kUnknown) continue;
    const float prob = 1.0f / (1.0f + std::exp(-logit[c]));
    const bool y = e.labels[c] == Label::kPositive;
    grad[c] = row_weight * (y ? pos_weight[c] : 1.0f) * (prob - (y ? 1.0f : 0.0f));
    loss -= std::log(std::max(y ? prob : 1.0f - prob, 1e-7f));
  }
  const float lr = o.learning_rate;
  offsets.Update(row, grad, lr);
  // Head (gradient into x computed with the weights before the update).
  s.dx.assign(n.inputs, 0.0f);
  for (int c = 0; c < C; ++c) {
    if (grad[c] == 0.0f) continue;
    const size_t row = static_cast<size_t>(c) * n.inputs;
    for (uint32_t k = 0; k < n.inputs; ++k) {
      s.dx[k] += grad[c] * n.out_weights.w[row + k];
      n.out_weights.Update(row + k, grad[c] * s.x[k], lr, o.l2);
    }
    n.out_bias.Update(c, grad[c], lr, 0.0f);
  }
  // Hidden layer.
  if (n.hidden > 0) {
    s.dbag.assign(n.dim, 0.0f);
    for (uint32_t j = 0; j < n.hidden; ++j) {
      if (s.pre[j] <= 0.0f || s.dx[j] == 0.0f) continue;
      const float dpre = s.dx[j];
      const size_t row = size_t{j} * n.dim;
      for (uint32_t d = 0; d < n.dim; ++d) {
        s.dbag[d] += dpre * n.hidden_weights.w[row + d];
        n.hidden_weights.Update(row + d, dpre * s.bag[d], lr, 0.0f);
      }
      n.hidden_bias.Update(j, dpre, lr, 0.0f);
    }
  } else {
    s.dbag = s.dx;
  }
  // Embeddings of every feature occurrence.
  const float norm = LengthNorm(o.features, f.size());
  for (const uint32_t id : f) {
    const size_t row = size_t{id} * n.dim;
    for (uint32_t d = 0; d < n.dim; ++d) n.embeddings.Update(row + d, norm * s.dbag[d], lr, o.l2);
  }
  return loss;
}

// int8 embeddings with one scale per dimension; buckets never seen in training are zero
// (their random start would only add noise at scoring time).
BagModel Quantise(const Net& n, const BagTrainOptions& o, const std::vector<bool>& seen) {
  BagModel m;
  m.features = o.features;
  m.text_fold_version = kTextFoldVersion;
  m.id = o.id;
  m.dim = n.dim;
  m.hidden = n.hidden;
  m.hierarchy = o.hierarchy;
  m.threshold.fill(o.thresholds.fallback);
  std::vector<float> max_abs(n.dim, 0.0f);
  const size_t buckets = seen.size();
  for (size_t b = 0; b < buckets; ++b) {
    if (!seen[b]) continue;
    for (uint32_t d = 0; d < n.dim; ++d) {
      max_abs[d] = std::max(max_abs[d], std::fabs(n.embeddings.w[b * n.dim + d]));
    }
  }
  m.embedding_scale.resize(n.dim);
  for (uint32_t d = 0; d < n.dim; ++d) m.embedding_scale[d] = max_abs[d] > 0 ? max_abs[d] / 127.0f : 1.0f;
  m.embeddings.assign(buckets * n.dim, 0);
  for (size_t b = 0; b < buckets; ++b) {
    if (!seen[b]) continue;
    for (uint32_t d = 0; d < n.dim; ++d) {
      const float q = std::round(n.embeddings.w[b * n.dim + d] / m.embedding_scale[d]);
      m.embeddings[b * n.dim + d] = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
    }
  }
  m.hidden_weights = n.hidden_weights.w;
  m.hidden_bias = n.hidden_bias.w;
  m.out_weights = n.out_weights.w;
  std::copy(n.out_bias.w.begin(), n.out_bias.w.end(), m.out_bias.begin());
  return m;
}

absl::Status ValidateOptions(const BagTrainOptions& o) {
  RETURN_IF_ERROR(ValidateFeatureConfig(o.features));
  if (o.epochs < 1 || !(o.learning_rate > 0) || o.dim < 8 || o.dim > 256 || o.dim % 8 != 0 ||
      o.hidden > 512 || !(o.feature_dropout >= 0.0f && o.feature_dropout < 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bag training options: need epochs >= 1, learning_rate > 0, dim a multiple of 8 in "
        "[8, 256], hidden <= 512, feature_dropout in [0, 1); got epochs=", o.epochs, " learning_rate=", o.learning_rate,
        " dim=", o.dim, " hidden=", o.hidden, " feature_dropout=", o.feature_dropout));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BagModel> TrainBag(const std::vector<Example>& examples,
                                  const BagTrainOptions& options, BagTrainReport* report) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (examples.empty()) return absl::InvalidArgumentError("no training examples");
  std::vector<const Example*> train, dev;
  for (const Example& e : examples) {
    (IsDevRow(e, options.dev_percent, options.dev_split) ? dev : train).push_back(&e);
  }
  if (train.empty()) return absl::InvalidArgumentError("every example fell into the dev split");

  const size_t buckets = size_t{1} << options.features.buckets_log2;
  std::vector<std::vector<uint32_t>> features(train.size());
  std::vector<bool> seen(buckets, false);
  for (size_t i = 0; i < train.size(); ++i) {
    ExtractFeatures(FoldText(train[i]->text), options.features, &features[i]);
    for (const uint32_t f : features[i]) seen[f] = true;
  }
  const CategoryArray pos_weight = PositiveWeights(train, options.max_positive_weight);
  Net net;
  InitNet(options, PriorLogOdds(train, pos_weight), net);
  const std::vector<float> row_weight = SourceWeights(train, options.source_balance_rows,
                                                      options.max_source_weight, options.group_sources);
  SourceOffsets offsets(train, options.source_offsets);
  std::vector<size_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(options.seed);
  Scratch scratch;
  std::vector<uint32_t> kept;
  const uint64_t drop_below = static_cast<uint64_t>(
      static_cast<double>(options.feature_dropout) * static_cast<double>(1ull << 32));
  BagTrainReport local;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Next() % i]);
    double loss = 0;
    for (const size_t i : order) {
      const std::vector<uint32_t>* f = &features[i];
      if (drop_below > 0) {
        kept.clear();
        for (const uint32_t id : features[i]) {
          if ((rng.Next() >> 32) >= drop_below) kept.push_back(id);
        }
        f = &kept;
      }
      loss += Step(options, *f, *train[i], pos_weight, row_weight[i], net, scratch, offsets, i);
    }
    local.epoch_loss.push_back(loss / train.size());
  }
  BagModel model = Quantise(net, options, seen);
  ASSIGN_OR_RETURN(const BagScorer scorer, BagScorer::Create(model));
  std::vector<uint32_t> buffer;
  model.threshold = ChooseThresholds(
      dev,
      [&](const std::string& text) {
        ExtractFeatures(FoldText(text), options.features, &buffer);
        return scorer.Scores(buffer);
      },
      options.thresholds);
  local.train_rows = static_cast<int>(train.size());
  local.dev_rows = static_cast<int>(dev.size());
  if (report != nullptr) *report = local;
  return model;
}

}  // namespace warden::moderation
