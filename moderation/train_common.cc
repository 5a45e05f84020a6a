#include "moderation/train_common.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "moderation/bag_model.h"
#include "moderation/metrics.h"
#include "moderation/model_file.h"

namespace warden::moderation {

constexpr int C = kNumCategories;

const std::string& DevSplitKey(const Example& row, DevSplit split) {
  return split == DevSplit::kGroup && !row.group.empty() ? row.group : row.text;
}

bool IsDevRow(const Example& row, int dev_percent, DevSplit split) {
  return dev_percent > 0 && Crc32(DevSplitKey(row, split)) % 100 < static_cast<uint32_t>(dev_percent);
}

CategoryArray PositiveWeights(const std::vector<const Example*>& rows, float cap) {
  std::array<double, C> pos{}, neg{};
  for (const Example* e : rows) {
    for (int c = 0; c < C; ++c) {
      if (e->labels[c] == Label::kPositive) pos[c]++;
      if (e->labels[c] == Label::kNegative) neg[c]++;
    }
  }
  CategoryArray out{};
  for (int c = 0; c < C; ++c) {
    out[c] = pos[c] > 0 ? std::clamp(static_cast<float>(std::sqrt(neg[c] / pos[c])), 1.0f, cap)
                        : 1.0f;
  }
  return out;
}

std::string SourceWeightGroup(const std::string& source) {
  return source.substr(0, source.find('/'));
}

std::vector<float> SourceWeights(const std::vector<const Example*>& rows, int balance_rows,
                                 float max_weight, bool group_sources) {
  const auto key = [group_sources](const Example* e) {
    return group_sources ? SourceWeightGroup(e->source) : e->source;
  };
  std::map<std::string, int> sizes;
  for (const Example* e : rows) sizes[key(e)]++;
  std::vector<float> out(rows.size(), 1.0f);
  if (balance_rows <= 0) return out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double ratio = static_cast<double>(balance_rows) / sizes[key(rows[i])];
    out[i] = static_cast<float>(std::clamp(std::sqrt(ratio), 0.25, std::max(0.25, static_cast<double>(max_weight))));
  }
  return out;
}

SourceOffsets::SourceOffsets(const std::vector<const Example*>& rows, bool enabled)
    : source_of_row_(rows.size(), -1) {
  if (!enabled) return;
  std::map<std::string, int> index;  // sorted by name: deterministic
  for (const Example* e : rows) index.emplace(e->source, 0);
  int next = 0;
  for (auto& [name, i] : index) i = next++;
  std::vector<std::array<bool, C>> has_pos(index.size()), has_neg(index.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const int s = index[rows[r]->source];
    source_of_row_[r] = s;
    for (int c = 0; c < C; ++c) {
      has_pos[s][c] = has_pos[s][c] || rows[r]->labels[c] == Label::kPositive;
      has_neg[s][c] = has_neg[s][c] || rows[r]->labels[c] == Label::kNegative;
    }
  }
  offset_.assign(index.size(), CategoryArray{});
  sum_sq_.assign(index.size(), CategoryArray{});
  mixed_.assign(index.size(), std::array<bool, C>{});
  for (size_t s = 0; s < index.size(); ++s) {
    for (int c = 0; c < C; ++c) mixed_[s][c] = has_pos[s][c] && has_neg[s][c];
  }
}

void SourceOffsets::AddTo(size_t row, CategoryArray& logit) const {
  const int s = source_of_row_[row];
  if (s < 0) return;
  for (int c = 0; c < C; ++c) logit[c] += offset_[s][c];
}

void SourceOffsets::Update(size_t row, const CategoryArray& grad, float learning_rate) {
  const int s = source_of_row_[row];
  if (s < 0) return;
  for (int c = 0; c < C; ++c) {
    if (!mixed_[s][c] || grad[c] == 0.0f) continue;
    sum_sq_[s][c] += grad[c] * grad[c];
    offset_[s][c] -= learning_rate * grad[c] / std::sqrt(sum_sq_[s][c] + 1e-6f);
  }
}

CategoryArray PriorLogOdds(const std::vector<const Example*>& rows, const CategoryArray& pos_weight) {
  std::array<double, C> pos{}, neg{};
  for (const Example* e : rows) {
    for (int c = 0; c < C; ++c) {
      if (e->labels[c] == Label::kPositive) pos[c] += pos_weight[c];
      if (e->labels[c] == Label::kNegative) neg[c] += 1;
    }
  }
  CategoryArray out{};
  for (int c = 0; c < C; ++c) {
    out[c] = static_cast<float>(std::log((pos[c] + 0.5) / (neg[c] + 0.5)));
  }
  return out;
}

CategoryArray ChooseThresholds(const std::vector<const Example*>& dev,
                               const std::function<CategoryArray(const std::string&)>& score,
                               const ThresholdOptions& options) {
  std::array<std::vector<ScoredLabel>, C> scored;
  for (const Example* e : dev) {
    const CategoryArray s = score(e->text);
    for (int c = 0; c < C; ++c) {
      if (e->labels[c] != Label::kUnknown) {
        scored[c].push_back({s[c], e->labels[c] == Label::kPositive});
      }
    }
  }
  CategoryArray threshold;
  threshold.fill(options.fallback);
  std::array<bool, C> chosen{};
  for (int c = 0; c < C; ++c) {
    int positives = 0;
    for (const ScoredLabel& s : scored[c]) positives += s.positive;
    if (positives < options.min_dev_positives) continue;
    threshold[c] = std::max(options.min_threshold,
                            BootstrapMedianThreshold(scored[c], options.beta, options.fallback, options.resamples,
                                                     static_cast<unsigned>(c + 1)));
    chosen[c] = true;
  }
  for (int c = 0; c < C; ++c) {
    if (chosen[c]) continue;
    const int parent = ParentCategoryIndex(c);
    if (parent >= 0 && chosen[parent]) threshold[c] = threshold[parent];
  }
  return threshold;
}

}  // namespace warden::moderation
