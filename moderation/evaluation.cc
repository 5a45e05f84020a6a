#include "moderation/evaluation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace warden::moderation {
namespace {

constexpr int C = kNumCategories;
using Scored = std::array<std::vector<ScoredLabel>, C>;

void Collect(const Example& e, const CategoryScores& s, Scored& out) {
  for (int c = 0; c < C; ++c) {
    if (e.labels[c] != Label::kUnknown) {
      out[c].push_back({s.scores[c], e.labels[c] == Label::kPositive});
    }
  }
}

std::array<BinaryMetrics, C> Metrics(const Scored& scored,
                                     const std::array<float, C>& thresholds) {
  std::array<BinaryMetrics, C> out;
  for (int c = 0; c < C; ++c) out[c] = ComputeBinaryMetrics(scored[c], thresholds[c]);
  return out;
}

void AppendCategoryTable(const std::array<BinaryMetrics, C>& metrics, int min_positives,
                         const std::string& indent, std::string& out) {
  absl::StrAppend(&out, indent,
                  absl::StrFormat("%-24s %6s %7s %6s %6s %6s %6s\n", "category", "pos", "neg",
                                  "prec", "recall", "F1", "AUPRC"));
  for (int c = 0; c < C; ++c) {
    const BinaryMetrics& m = metrics[c];
    if (m.positives == 0 && m.negatives == 0) continue;
    if (m.positives == 0) {
      absl::StrAppend(&out, indent,
                      absl::StrFormat("%-24s %6d %7d   (no positives; false-positive rate "
                                      "n/a in this table)\n",
                                      CategoryName(kCategories[c]), 0, m.negatives));
      continue;
    }
    if (m.negatives == 0) {  // precision and AUPRC are meaningless without negatives
      absl::StrAppend(&out, indent,
                      absl::StrFormat("%-24s %6d %7d %6s %6.3f %6s %6s  (no negatives)\n",
                                      CategoryName(kCategories[c]), m.positives, 0, "-",
                                      m.recall, "-", "-"));
      continue;
    }
    absl::StrAppend(&out, indent,
                    absl::StrFormat("%-24s %6d %7d %6.3f %6.3f %6.3f %6.3f%s\n",
                                    CategoryName(kCategories[c]), m.positives, m.negatives,
                                    m.precision, m.recall, m.f1, m.auprc,
                                    m.positives < min_positives ? "  (few positives)" : ""));
  }
}

bool IsBenign(const std::string& source) {
  const std::vector<std::string>& benign = BenignSources();
  return std::find(benign.begin(), benign.end(), source) != benign.end();
}

// Adds a benign row's known-negative labels to `stats` (sums; means are taken at the end).
void AddBenign(const Example& e, const CategoryScores& s, const std::array<float, C>& thresholds,
               std::array<BenignCategoryStats, C>& stats) {
  for (int c = 0; c < C; ++c) {
    if (e.labels[c] != Label::kNegative) continue;
    BenignCategoryStats& b = stats[c];
    b.rows++;
    b.flagged += s.scores[c] >= thresholds[c] ? 1 : 0;
    b.above_half += s.scores[c] >= 0.5f ? 1 : 0;
    b.mean_score += s.scores[c];
    b.max_score = std::max(b.max_score, s.scores[c]);
  }
}

void FinishMeans(std::array<BenignCategoryStats, C>& stats) {
  for (BenignCategoryStats& b : stats) {
    if (b.rows > 0) b.mean_score /= b.rows;
  }
}

BenignReport BenignCheck(const std::vector<Example>& examples,
                         const std::vector<CategoryScores>& scores,
                         const std::array<float, C>& thresholds) {
  BenignReport report;
  for (size_t i = 0; i < examples.size(); ++i) {
    if (!IsBenign(examples[i].source)) continue;
    AddBenign(examples[i], scores[i], thresholds, report.pooled);
    AddBenign(examples[i], scores[i], thresholds, report.sources[examples[i].source]);
  }
  FinishMeans(report.pooled);
  for (auto& [name, stats] : report.sources) FinishMeans(stats);
  return report;
}

double Percent(int part, int whole) { return 100.0 * part / std::max(whole, 1); }

// One line per category: pooled rows, false-positive rate at the model's thresholds and at
// 0.5, mean and max score, then the false-positive rate of every benign source.
void AppendBenignTable(const BenignReport& benign, std::string& out) {
  absl::StrAppend(&out, "\n== benign-text check (rows of benign sources, negative labels only)\n");
  int column = 0;
  for (const auto& [name, stats] : benign.sources) {
    absl::StrAppend(&out, absl::StrFormat("  S%d = %s\n", ++column, name));
  }
  absl::StrAppend(&out, absl::StrFormat("%-24s %6s %6s %6s %6s %6s", "category", "rows", "FP%",
                                        ">=0.5%", "mean", "max"));
  for (int i = 1; i <= column; ++i) absl::StrAppend(&out, absl::StrFormat("  S%d FP%%", i));
  absl::StrAppend(&out, "\n");
  for (int c = 0; c < C; ++c) {
    const BenignCategoryStats& b = benign.pooled[c];
    if (b.rows == 0) continue;
    absl::StrAppend(&out, absl::StrFormat("%-24s %6d %6.2f %6.2f %6.3f %6.3f",
                                          CategoryName(kCategories[c]), b.rows,
                                          Percent(b.flagged, b.rows),
                                          Percent(b.above_half, b.rows), b.mean_score,
                                          b.max_score));
    for (const auto& [name, stats] : benign.sources) {
      if (stats[c].rows == 0) {
        absl::StrAppend(&out, absl::StrFormat(" %7s", "-"));
      } else {
        absl::StrAppend(&out,
                        absl::StrFormat(" %7.2f", Percent(stats[c].flagged, stats[c].rows)));
      }
    }
    absl::StrAppend(&out, "\n");
  }
}

}  // namespace

const std::vector<std::string>& BenignSources() {
  static const auto* const kSources = new std::vector<std::string>{
      "normal-instructions", "awesome-chatgpt-prompts", "awesome-chatgpt-sentences",
      "goemotions", "diasafety-safe", "diasafety-expertise-questions", "xstest-safe",
      "authored/ordinary_requests"};
  return *kSources;
}

EvaluationReport Evaluate(const std::vector<Example>& examples,
                          const std::vector<CategoryScores>& scores,
                          const std::array<float, C>& thresholds, int min_positives) {
  EvaluationReport report;
  if (examples.size() != scores.size()) return report;
  Scored all;
  std::map<std::string, Scored> by_source;
  for (size_t i = 0; i < examples.size(); ++i) {
    Collect(examples[i], scores[i], all);
    Collect(examples[i], scores[i], by_source[examples[i].source]);
    SourceReport& source = report.sources[examples[i].source];
    source.rows++;
    for (int c = 0; c < C; ++c) {
      if (scores[i].scores[c] >= thresholds[c]) {
        source.flagged_rows++;
        break;
      }
    }
  }
  report.categories = Metrics(all, thresholds);
  report.benign = BenignCheck(examples, scores, thresholds);
  for (auto& [name, scored] : by_source) report.sources[name].categories = Metrics(scored, thresholds);
  std::vector<ScoredLabel> pooled;
  for (const auto& v : all) pooled.insert(pooled.end(), v.begin(), v.end());
  report.calibration = Calibration(pooled, 10);
  double sum = 0;
  for (const BinaryMetrics& m : report.categories) {
    // Without negatives every ranking has precision 1: such a category says nothing.
    if (m.positives >= min_positives && m.negatives > 0) {
      sum += m.auprc;
      report.macro_categories++;
    }
  }
  report.macro_auprc = report.macro_categories > 0 ? sum / report.macro_categories : 0;
  return report;
}

std::string FormatReport(const EvaluationReport& report, int min_positives) {
  std::string out = "== all sources (thresholds of the model)\n";
  AppendCategoryTable(report.categories, min_positives, "", out);
  if (report.macro_categories > 0) {
    absl::StrAppend(&out, absl::StrFormat("macro AUPRC over %d categories with >= %d positives: "
                                          "%.3f\n\n",
                                          report.macro_categories, min_positives,
                                          report.macro_auprc));
  } else {
    absl::StrAppend(&out, absl::StrFormat("macro AUPRC: n/a (no category has >= %d positives and "
                                          "any negatives)\n\n",
                                          min_positives));
  }
  absl::StrAppend(&out, "== rows flagged in any category, per source\n");
  for (const auto& [name, source] : report.sources) {
    absl::StrAppend(&out, absl::StrFormat("%-26s %6d rows  %6.1f%% flagged\n",
                                          name.empty() ? "(none)" : name, source.rows,
                                          100.0 * source.flagged_rows / std::max(source.rows, 1)));
  }
  AppendBenignTable(report.benign, out);
  for (const auto& [name, source] : report.sources) {
    bool any_positive = false;
    for (const BinaryMetrics& m : source.categories) any_positive |= m.positives > 0;
    if (!any_positive) continue;
    absl::StrAppend(&out, "\n== source ", name.empty() ? "(none)" : name, "\n");
    std::array<BinaryMetrics, C> with_positives = source.categories;
    for (BinaryMetrics& m : with_positives) {
      if (m.positives == 0) m = BinaryMetrics();
    }
    AppendCategoryTable(with_positives, min_positives, "  ", out);
  }
  absl::StrAppend(&out, "\n== calibration (all known labels pooled)\n");
  absl::StrAppend(&out, absl::StrFormat("%-11s %8s %10s %13s\n", "score", "count", "mean score",
                                        "positive rate"));
  for (const CalibrationBin& bin : report.calibration) {
    absl::StrAppend(&out, absl::StrFormat("[%.1f, %.1f) %8d %10.3f %13.3f\n", bin.low, bin.high,
                                          bin.count, bin.mean_score, bin.positive_rate));
  }
  return out;
}

}  // namespace warden::moderation
