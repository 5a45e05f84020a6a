#include "moderation/stacking_trainer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;
constexpr int P = C + 1;  // parameters per category: weight on each logit, then the bias
using Vec = std::array<double, P>;
using Mat = std::array<double, P * P>;

// One category's regression: features x_i = (z_i, 1), offset z_ic, label y_i, weight w_i.
struct Problem {
  std::vector<Vec> x;
  std::vector<double> offset, label, weight;
  double weight_sum = 0;
  double l2 = 0;
};

double Softplus(double s) { return s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s)); }

double Dot(const Vec& a, const Vec& b) {
  double out = 0;
  for (int k = 0; k < P; ++k) out += a[k] * b[k];
  return out;
}

double Loss(const Problem& p, const Vec& theta) {
  double loss = 0;
  for (size_t i = 0; i < p.x.size(); ++i) {
    const double s = p.offset[i] + Dot(p.x[i], theta);
    loss += p.weight[i] * (Softplus(s) - p.label[i] * s);
  }
  return loss / p.weight_sum + 0.5 * p.l2 * Dot(theta, theta);
}

void GradientAndHessian(const Problem& p, const Vec& theta, Vec& g, Mat& h) {
  g.fill(0);
  h.fill(0);
  for (size_t i = 0; i < p.x.size(); ++i) {
    const double s = p.offset[i] + Dot(p.x[i], theta);
    const double q = 1.0 / (1.0 + std::exp(-s));
    const double w = p.weight[i] / p.weight_sum;
    for (int a = 0; a < P; ++a) {
      g[a] += w * (q - p.label[i]) * p.x[i][a];
      for (int b = 0; b <= a; ++b) h[a * P + b] += w * q * (1 - q) * p.x[i][a] * p.x[i][b];
    }
  }
  for (int a = 0; a < P; ++a) {
    g[a] += p.l2 * theta[a];
    h[a * P + a] += p.l2;
    for (int b = 0; b < a; ++b) h[b * P + a] = h[a * P + b];
  }
}

// Solves h * out = g by Cholesky; h is positive definite (the L2 term). False when not.
bool Solve(Mat h, const Vec& g, Vec& out) {
  for (int j = 0; j < P; ++j) {
    double d = h[j * P + j];
    for (int k = 0; k < j; ++k) d -= h[j * P + k] * h[j * P + k];
    if (!(d > 0)) return false;
    h[j * P + j] = std::sqrt(d);
    for (int i = j + 1; i < P; ++i) {
      double v = h[i * P + j];
      for (int k = 0; k < j; ++k) v -= h[i * P + k] * h[j * P + k];
      h[i * P + j] = v / h[j * P + j];
    }
  }
  Vec y;
  for (int i = 0; i < P; ++i) {
    double v = g[i];
    for (int k = 0; k < i; ++k) v -= h[i * P + k] * y[k];
    y[i] = v / h[i * P + i];
  }
  for (int i = P - 1; i >= 0; --i) {
    double v = y[i];
    for (int k = i + 1; k < P; ++k) v -= h[k * P + i] * out[k];
    out[i] = v / h[i * P + i];
  }
  return true;
}

Vec Minimise(const Problem& p, int max_iterations) {
  Vec theta{};
  double loss = Loss(p, theta);
  for (int it = 0; it < max_iterations; ++it) {
    Vec g, step;
    Mat h;
    GradientAndHessian(p, theta, g, h);
    if (!Solve(h, g, step)) break;
    double t = 1.0;
    bool improved = false;
    for (int halving = 0; halving < 30 && !improved; ++halving, t *= 0.5) {
      Vec next;
      for (int k = 0; k < P; ++k) next[k] = theta[k] - t * step[k];
      const double next_loss = Loss(p, next);
      if (next_loss < loss) {
        improved = true;
        const double decrease = loss - next_loss;
        theta = next;
        loss = next_loss;
        if (decrease < 1e-12) return theta;
      }
    }
    if (!improved) break;
  }
  return theta;
}

// Whether category c's regression reads category j's logit.
std::array<bool, C> AllowedInputs(int c, StackingInputs inputs) {
  std::array<bool, C> allowed{};
  if (inputs == StackingInputs::kAll) {
    allowed.fill(true);
    return allowed;
  }
  const std::vector<int> partners = StackingPartners(c);
  if (partners.empty()) return allowed;  // nothing: the category stays unstacked
  allowed[c] = true;
  for (const int j : partners) allowed[j] = true;
  return allowed;
}

int Index(warden::v1::Category category) { return CategoryIndex(category); }

}  // namespace

std::vector<int> StackingPartners(int c) {
  using namespace warden::v1;  // NOLINT: category names read better unqualified here
  switch (kCategories[c]) {
    case HARASSMENT_THREATENING:
      return {Index(HARASSMENT), Index(VIOLENCE)};
    case HATE_THREATENING:
      return {Index(HATE), Index(HARASSMENT_THREATENING), Index(VIOLENCE)};
    case ILLICIT_VIOLENT:
      return {Index(ILLICIT), Index(VIOLENCE)};
    case SELF_HARM_INTENT:
      return {Index(SELF_HARM)};
    case SELF_HARM_INSTRUCTIONS:
      return {Index(SELF_HARM), Index(ILLICIT)};
    case SEXUAL_MINORS:
      return {Index(SEXUAL)};
    case VIOLENCE_GRAPHIC:
      return {Index(VIOLENCE)};
    default:
      return {};
  }
}

absl::StatusOr<StackingLayer> FitStacking(const std::vector<const Example*>& rows,
                                          const std::vector<std::array<float, kNumCategories>>& scores,
                                          const std::vector<float>& row_weight,
                                          const StackingTrainOptions& options) {
  if (scores.size() != rows.size() || row_weight.size() != rows.size()) {
    return absl::InvalidArgumentError(absl::StrCat("stacking: ", rows.size(), " rows, ",
                                                   scores.size(), " scores, ", row_weight.size(),
                                                   " weights"));
  }
  if (!(options.l2 > 0) || options.max_iterations < 1 || options.min_positives < 1) {
    return absl::InvalidArgumentError("stacking: l2 must be > 0, iterations and positives >= 1");
  }
  std::vector<Vec> features(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int j = 0; j < C; ++j) features[i][j] = StackingLogit(scores[i][j]);
    features[i][C] = 1.0;
  }
  StackingLayer layer;
  for (int c = 0; c < C; ++c) {
    const std::array<bool, C> allowed = AllowedInputs(c, options.inputs);
    if (std::none_of(allowed.begin(), allowed.end(), [](bool a) { return a; })) continue;
    Problem p;
    p.l2 = options.l2;
    int positives = 0, negatives = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Label label = rows[i]->labels[c];
      if (label == Label::kUnknown || !(row_weight[i] > 0)) continue;
      Vec x = features[i];
      // A zero input gets no gradient, so its weight stays at 0 under the L2 penalty.
      for (int j = 0; j < C; ++j) x[j] = allowed[j] ? x[j] : 0.0;
      p.x.push_back(x);
      p.offset.push_back(features[i][c]);
      p.label.push_back(label == Label::kPositive ? 1.0 : 0.0);
      p.weight.push_back(row_weight[i]);
      p.weight_sum += row_weight[i];
      (label == Label::kPositive ? positives : negatives)++;
    }
    if (positives < options.min_positives || negatives == 0) continue;
    const Vec theta = Minimise(p, options.max_iterations);
    for (int j = 0; j < C; ++j) layer.weight[c * C + j] = static_cast<float>(theta[j]);
    layer.bias[c] = static_cast<float>(theta[C]);
  }
  return layer;
}

}  // namespace warden::moderation
