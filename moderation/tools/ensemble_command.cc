#include "moderation/tools/ensemble_command.h"

#include <array>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json_line.h"
#include "base/status_macros.h"
#include "moderation/dataset.h"
#include "moderation/fast_classifier.h"
#include "moderation/metrics.h"
#include "moderation/model_file.h"
#include "moderation/stacking_trainer.h"
#include "moderation/train_common.h"

namespace warden::moderation::tools {
namespace {

// Which rows the ensemble command chooses its thresholds on (dev_split) and how it fits its
// optional stacking layer (the rest).
struct StackingFlags {
  bool enabled = false;
  std::string data;   // --stacking_data: out-of-fold scored rows, else the development rows
  bool half = false;  // fit on one half of the development rows, thresholds on the other
  DevSplit dev_split = DevSplit::kText;  // what the development rows and halves hash
  StackingTrainOptions train;
  int source_balance_rows = 2000;
  float max_source_weight = 4.0f;
  bool group_sources = false;
};

absl::StatusOr<StackingFlags> ReadStackingFlags(const Flags& flags) {
  StackingFlags out;
  int enabled = 0;
  RETURN_IF_ERROR(Optional(flags, "stacking", &enabled));
  if (enabled != 0 && enabled != 1) return absl::InvalidArgumentError("--stacking must be 0 or 1");
  out.enabled = enabled == 1;
  RETURN_IF_ERROR(Optional(flags, "stacking_l2", &out.train.l2));
  if (const auto it = flags.find("stacking_inputs"); it != flags.end()) {
    if (it->second != "all" && it->second != "partners") {
      return absl::InvalidArgumentError("--stacking_inputs must be all or partners, got " + it->second);
    }
    out.train.inputs = it->second == "all" ? StackingInputs::kAll : StackingInputs::kPartners;
  }
  if (!(out.train.l2 > 0)) return absl::InvalidArgumentError("--stacking_l2 must be > 0");
  if (const auto it = flags.find("stacking_rows"); it != flags.end()) {
    if (it->second != "all" && it->second != "half") {
      return absl::InvalidArgumentError("--stacking_rows must be all or half, got " + it->second);
    }
    out.half = it->second == "half";
  }
  if (const auto it = flags.find("stacking_data"); it != flags.end()) out.data = ResolvePath(it->second);
  if (!out.data.empty() && out.half) {
    return absl::InvalidArgumentError("--stacking_data and --stacking_rows half exclude each other");
  }
  RETURN_IF_ERROR(Optional(flags, "source_balance_rows", &out.source_balance_rows));
  RETURN_IF_ERROR(Optional(flags, "max_source_weight", &out.max_source_weight));
  RETURN_IF_ERROR(ReadGroupSourcesFlag(flags, &out.group_sources));
  RETURN_IF_ERROR(ReadDevSplitFlag(flags, &out.dev_split));
  return out;
}

// Per-category AUPRC of `model` on `rows`, printed on one line (a development-rows check).
void PrintDevAuprc(const std::string& label, const std::vector<const Example*>& rows,
                   const FastClassifier& model) {
  std::array<std::vector<ScoredLabel>, kNumCategories> scored;
  for (const Example* e : rows) {
    const CategoryScores s = model.Score(e->text);
    for (int c = 0; c < kNumCategories; ++c) {
      if (e->labels[c] != Label::kUnknown) {
        scored[c].push_back({s.scores[c], e->labels[c] == Label::kPositive});
      }
    }
  }
  std::cerr << label << " AUPRC on " << rows.size() << " rows:";
  for (int c = 0; c < kNumCategories; ++c) {
    const BinaryMetrics m = ComputeBinaryMetrics(scored[c], 0.5f);
    std::cerr << " " << CategoryName(kCategories[c]) << "=" << m.auprc << "(" << m.positives << ")";
  }
  std::cerr << "\n";
}

// Rows of a --stacking_data file and their "first_stage" scores (all fifteen categories).
absl::Status ReadScoredExamples(const std::string& path, std::vector<Example>* rows,
                                std::vector<CategoryArray>* scores) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot open stacking data file " + path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (IsBlankLine(line)) continue;
    const std::string origin = absl::StrCat(path, ":", n);
    ASSIGN_OR_RETURN(Example example, ParseExample(line, origin));
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    const auto first = row.find("first_stage");
    if (first == row.end() || !first->is_object()) {
      return absl::InvalidArgumentError(origin + ": missing object \"first_stage\"");
    }
    CategoryArray s{};
    for (int c = 0; c < kNumCategories; ++c) {
      const auto v = first->find(std::string(CategoryName(kCategories[c])));
      if (v == first->end() || !v->is_number()) {
        return absl::InvalidArgumentError(absl::StrCat(origin, ": \"first_stage\" lacks a number for ",
                                                       std::string(CategoryName(kCategories[c]))));
      }
      s[c] = v->get<float>();
    }
    rows->push_back(std::move(example));
    scores->push_back(s);
  }
  return absl::OkStatus();
}

// Fits the layer on the out-of-fold rows of flags.data, each weighted by its source as the
// trainers weight it.
absl::Status FitStackingOnScoredRows(const StackingFlags& flags, ModelFileContents* contents) {
  std::vector<Example> rows;
  std::vector<CategoryArray> scores;
  RETURN_IF_ERROR(ReadScoredExamples(flags.data, &rows, &scores));
  std::vector<const Example*> fit;
  for (const Example& e : rows) fit.push_back(&e);
  const std::vector<float> weight =
      SourceWeights(fit, flags.source_balance_rows, flags.max_source_weight, flags.group_sources);
  ASSIGN_OR_RETURN(contents->ensemble_stacking, FitStacking(fit, scores, weight, flags.train));
  std::cerr << "stacking layer fitted on " << fit.size() << " out-of-fold rows (l2 "
            << flags.train.l2 << ")\n";
  return absl::OkStatus();
}

// Fits contents->ensemble_stacking on the development rows `fit`, which the members never
// trained on, scored by `first_stage`.
absl::Status FitStackingOnDevRows(const StackingFlags& flags, const std::vector<Example>& examples,
                                  const std::vector<const Example*>& fit,
                                  const FastClassifier& first_stage, ModelFileContents* contents) {
  // Source sizes as the trainers count them (all rows of the file), weights of the fit rows.
  std::vector<const Example*> all;
  all.reserve(examples.size());
  for (const Example& e : examples) all.push_back(&e);
  const std::vector<float> all_weight = SourceWeights(all, flags.source_balance_rows,
                                                      flags.max_source_weight, flags.group_sources);
  std::vector<float> weight;
  std::vector<CategoryArray> scores;
  weight.reserve(fit.size());
  scores.reserve(fit.size());
  for (const Example* e : fit) {
    weight.push_back(all_weight[static_cast<size_t>(e - examples.data())]);
    scores.push_back(first_stage.Score(e->text).scores);
  }
  ASSIGN_OR_RETURN(contents->ensemble_stacking, FitStacking(fit, scores, weight, flags.train));
  std::cerr << "stacking layer fitted on " << fit.size() << " development rows (l2 "
            << flags.train.l2 << ")\n";
  return absl::OkStatus();
}

// Adds the stacking layer to `contents` and returns the rows to choose thresholds on: all
// development rows, or with --stacking_rows half the half the layer was not fitted on.
absl::StatusOr<std::vector<const Example*>> AddStacking(const StackingFlags& flags,
                                                        const std::vector<Example>& examples,
                                                        const std::vector<const Example*>& dev,
                                                        ModelFileContents* contents) {
  ASSIGN_OR_RETURN(const std::unique_ptr<FastClassifier> first_stage,
                   FastClassifier::FromContents(*contents));
  std::vector<const Example*> fit, held;
  if (!flags.data.empty()) {
    RETURN_IF_ERROR(FitStackingOnScoredRows(flags, contents));
    held = dev;
  } else {
    // IsDevRow keeps CRC % 100 < 10 of the split key; the fitting half is CRC % 100 < 5 of
    // the same key, so a group never straddles the halves either.
    for (const Example* e : dev) (!flags.half || IsDevRow(*e, 5, flags.dev_split) ? fit : held).push_back(e);
    RETURN_IF_ERROR(FitStackingOnDevRows(flags, examples, fit, *first_stage, contents));
    if (!flags.half) return dev;
  }
  // Rows the layer was not fitted on: how it changes their ranking, per category.
  ASSIGN_OR_RETURN(const std::unique_ptr<FastClassifier> stacked, FastClassifier::FromContents(*contents));
  PrintDevAuprc("unstacked", held, *first_stage);
  PrintDevAuprc("stacked", held, *stacked);
  return held;
}

// The members, id and hierarchy rule given by the flags; thresholds still to be chosen.
absl::StatusOr<ModelFileContents> ReadEnsembleMembers(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string linear_path, Required(flags, "linear"));
  ASSIGN_OR_RETURN(const std::string bag_path, Required(flags, "bag"));
  ModelFileContents contents;
  contents.kind = ModelKind::kEnsemble;
  ASSIGN_OR_RETURN(contents.linear, ReadFastModelFile(ResolvePath(linear_path)));
  ASSIGN_OR_RETURN(const ModelFileContents bag, ReadModelFile(ResolvePath(bag_path)));
  if (bag.kind != ModelKind::kEmbeddingBag) {
    return absl::InvalidArgumentError(bag_path + " is not an embedding-bag model");
  }
  contents.bag = bag.bag;
  contents.ensemble_id = absl::StrCat(contents.linear.id, "+", contents.bag.id);
  if (const auto it = flags.find("id"); it != flags.end()) contents.ensemble_id = it->second;
  contents.ensemble_threshold.fill(0.5f);
  int hierarchy = 0;
  RETURN_IF_ERROR(Optional(flags, "hierarchy", &hierarchy));
  if (hierarchy != 0 && hierarchy != 1) return absl::InvalidArgumentError("--hierarchy must be 0 or 1");
  contents.ensemble_hierarchy = static_cast<Hierarchy>(hierarchy);
  return contents;
}

}  // namespace

absl::Status EnsembleCommand(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string data, Required(flags, "data"));
  ASSIGN_OR_RETURN(const std::string out, Required(flags, "out"));
  ASSIGN_OR_RETURN(const StackingFlags stacking, ReadStackingFlags(flags));
  ThresholdOptions options;
  RETURN_IF_ERROR(Optional(flags, "threshold_beta", &options.beta));
  RETURN_IF_ERROR(Optional(flags, "threshold_resamples", &options.resamples));
  if (options.resamples < 0 || options.resamples > 10000) {
    return absl::InvalidArgumentError("--threshold_resamples must be between 0 and 10000");
  }
  ASSIGN_OR_RETURN(ModelFileContents contents, ReadEnsembleMembers(flags));
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadDataRows(ResolvePath(data)));
  std::vector<const Example*> threshold_rows;
  for (const Example& e : examples) {
    if (IsDevRow(e, 10, stacking.dev_split)) threshold_rows.push_back(&e);
  }
  if (stacking.enabled) {
    ASSIGN_OR_RETURN(threshold_rows, AddStacking(stacking, examples, threshold_rows, &contents));
  }
  ASSIGN_OR_RETURN(const std::unique_ptr<FastClassifier> classifier,
                   FastClassifier::FromContents(contents));
  contents.ensemble_threshold = ChooseThresholds(
      threshold_rows, [&](const std::string& text) { return classifier->Score(text).scores; }, options);
  RETURN_IF_ERROR(WriteModelFile(contents, ResolvePath(out)));
  std::cerr << "ensemble thresholds from " << threshold_rows.size() << " dev rows:";
  for (int c = 0; c < kNumCategories; ++c) {
    std::cerr << " " << CategoryName(kCategories[c]) << "=" << contents.ensemble_threshold[c];
  }
  std::cerr << "\nwrote " << out << "\n";
  return absl::OkStatus();
}

}  // namespace warden::moderation::tools
