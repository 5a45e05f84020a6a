// `classifier`: score texts with the fast classifier, train a model, evaluate a model.
//
//   classifier score [--model FILE]
//       JSON lines {"text": ...} on stdin -> {"scores": {"harassment": p, ...}} per line,
//       all fifteen categories. Without --model, the shipped default model is used (see
//       moderation/default_model.h for where it is looked up). A malformed input line gives
//       {"error": "..."} on that line and exit status 1 at the end.
//   classifier train --data FILE.jsonl --out MODEL [--seed S] [--epochs N]
//       [--learning_rate F] [--buckets_log2 B] [--threshold_beta F]
//       [--max_positive_weight F] [--source_balance_rows N] [--max_source_weight F]
//       [--group_sources 0|1] [--average_from_epoch E]
//       [--length_norm 0|1|2] [--repeats 0|1] [--l2 F] [--source_offsets 0|1] [--id ID]
//       [--kind linear|bag] [--dim D] [--hidden H] [--hierarchy 0|1] [--feature_dropout P]
//       --kind bag trains the embedding-bag model (bag_trainer.h) with --dim, --hidden and
//       --hierarchy (1 = a subcategory's score is capped at its parent's) and
//       --feature_dropout (share of feature occurrences dropped per training step).
//       --repeats 1 counts each distinct hashed feature of a text once (features.h).
//       --group_sources 1 counts sources named "<group>/<name>" as one source <group>
//       for the source weight (all authored files share one weight).
//       --source_offsets 1 learns per-source bias offsets during training only (both
//       kinds; see SourceOffsets in moderation/train_common.h).
//   classifier ensemble --linear MODEL --bag MODEL --data FILE.jsonl --out MODEL [--id ID]
//       [--threshold_beta F] [--hierarchy 0|1]
//       Combines a linear and an embedding-bag model (same text folding) into one ensemble
//       model file that averages their probabilities; its thresholds are chosen on the
//       development rows of FILE (the same 10 % by text hash the trainers keep back).
//       --hierarchy 1 caps each averaged subcategory score at its parent's.
//       [--stacking 0|1] [--stacking_l2 F] [--stacking_rows all|half]
//       [--stacking_inputs all|partners] [--stacking_data OOF.jsonl]
//       [--source_balance_rows N] [--max_source_weight F] [--group_sources 0|1]
//       --stacking 1 fits a stacking layer (moderation/stacking.h) on the ensemble's scores
//       of the development rows, each weighted by its source as the trainers weight it
//       (the source flags), then chooses the thresholds on the stacked scores. With
//       --stacking_rows half the layer is fitted on one half of the development rows
//       (by text hash) and the thresholds chosen on the other, and the tool prints the
//       other half's AUPRC per category before and after stacking. --stacking_inputs
//       partners stacks only the subcategories, each from its parent and partners
//       (StackingPartners in moderation/stacking_trainer.h). --stacking_data fits the layer
//       on the rows of OOF.jsonl instead, training rows with one more field "first_stage":
//       {category: p}, scores of a first stage that never trained on that row (out-of-fold,
//       moderation/training/out_of_fold.py); the thresholds stay on the development rows.
//   classifier eval --model MODEL --data FILE.jsonl [--min_positives N] [--hierarchy 0|1]
//       [--ensemble_with MODEL2]
//       --hierarchy 1 caps subcategory scores at their parent's before evaluating;
//       --ensemble_with averages the two models' scores and thresholds (for comparisons).
//       The report ends its summary with the benign-text check (evaluation.h): false
//       positives and mean/max scores on the rows of benign sources, per category.
//
// Relative paths are resolved against the directory `bazel run` was started from
// ($BUILD_WORKING_DIRECTORY) when set.
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "moderation/bag_model.h"
#include "moderation/bag_trainer.h"
#include "moderation/dataset.h"
#include "moderation/default_model.h"
#include "moderation/evaluation.h"
#include "moderation/fast_classifier.h"
#include "moderation/metrics.h"
#include "moderation/model_file.h"
#include "moderation/stacking_trainer.h"
#include "moderation/train_common.h"
#include "moderation/trainer.h"

namespace warden::moderation {
namespace {

using Flags = std::map<std::string, std::string>;

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, int first) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError("unexpected argument " + arg);
    arg = arg.substr(2);
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return absl::InvalidArgumentError("flag --" + arg + " needs a value");
    }
  }
  return flags;
}

std::string ResolvePath(const std::string& path) {
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || base == nullptr || *base == '\0') return path;
  return absl::StrCat(base, "/", path);
}

absl::StatusOr<std::string> Required(const Flags& flags, const std::string& name) {
  const auto it = flags.find(name);
  if (it == flags.end()) return absl::InvalidArgumentError("missing --" + name);
  return it->second;
}

template <typename T>
absl::Status Optional(const Flags& flags, const std::string& name, T* out) {
  const auto it = flags.find(name);
  if (it == flags.end()) return absl::OkStatus();
  bool ok;
  if constexpr (std::is_same_v<T, float>) {
    ok = absl::SimpleAtof(it->second, out);
  } else if constexpr (std::is_same_v<T, double>) {
    ok = absl::SimpleAtod(it->second, out);
  } else {
    ok = absl::SimpleAtoi(it->second, out);
  }
  return ok ? absl::OkStatus() : absl::InvalidArgumentError("bad value for --" + name);
}

absl::StatusOr<std::unique_ptr<FastClassifier>> LoadModel(const Flags& flags) {
  const auto it = flags.find("model");
  if (it != flags.end()) return FastClassifier::Load(ResolvePath(it->second));
  ASSIGN_OR_RETURN(const std::string path, FindDefaultModel());
  return FastClassifier::Load(path);
}

nlohmann::json ScoresJson(const CategoryScores& scores) {
  nlohmann::json out = nlohmann::json::object();
  for (int c = 0; c < kNumCategories; ++c) {
    out[std::string(CategoryName(kCategories[c]))] = scores.scores[c];
  }
  return out;
}

absl::Status Score(const Flags& flags) {
  ASSIGN_OR_RETURN(const auto classifier, LoadModel(flags));
  std::string line;
  bool all_ok = true;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    nlohmann::json out;
    if (row.is_object() && row.contains("text") && row["text"].is_string()) {
      out["scores"] = ScoresJson(classifier->Score(row["text"].get<std::string>()));
    } else {
      out["error"] = "expected a JSON object with a string \"text\"";
      all_ok = false;
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  return all_ok ? absl::OkStatus() : absl::InvalidArgumentError("some input lines were malformed");
}

void PrintTrainSummary(int train_rows, int dev_rows, const std::vector<double>& epoch_loss,
                       const std::array<float, kNumCategories>& threshold, const std::string& out) {
  std::cerr << "trained on " << train_rows << " rows, thresholds from " << dev_rows
            << " dev rows; loss per epoch:";
  for (const double loss : epoch_loss) std::cerr << " " << loss;
  std::cerr << "\nthresholds:";
  for (int c = 0; c < kNumCategories; ++c) {
    std::cerr << " " << CategoryName(kCategories[c]) << "=" << threshold[c];
  }
  std::cerr << "\nwrote " << out << "\n";
}

// --repeats: 0 counts every feature occurrence, 1 each distinct feature once.
absl::Status ReadRepeatsFlag(const Flags& flags, FeatureConfig* features) {
  int repeats = static_cast<int>(features->repeats);
  RETURN_IF_ERROR(Optional(flags, "repeats", &repeats));
  if (repeats != static_cast<int>(kCountEvery) && repeats != static_cast<int>(kCountOnce)) {
    return absl::InvalidArgumentError(absl::StrCat("--repeats must be 0 or 1, got ", repeats));
  }
  features->repeats = static_cast<uint32_t>(repeats);
  return absl::OkStatus();
}

// --group_sources: 0 weights every source by its own size, 1 by its group's
// (SourceWeightGroup in train_common.h).
absl::Status ReadGroupSourcesFlag(const Flags& flags, bool* group_sources) {
  int value = 0;
  RETURN_IF_ERROR(Optional(flags, "group_sources", &value));
  if (value != 0 && value != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--group_sources must be 0 or 1, got ", value));
  }
  *group_sources = value == 1;
  return absl::OkStatus();
}

absl::Status TrainBagCommand(const Flags& flags, const std::vector<Example>& examples,
                             const std::string& out) {
  BagTrainOptions options;
  int seed = 1, buckets_log2 = static_cast<int>(options.features.buckets_log2);
  int length_norm = 0, dim = static_cast<int>(options.dim), hidden = 0, hierarchy = 0;
  RETURN_IF_ERROR(Optional(flags, "seed", &seed));
  RETURN_IF_ERROR(Optional(flags, "epochs", &options.epochs));
  RETURN_IF_ERROR(Optional(flags, "learning_rate", &options.learning_rate));
  RETURN_IF_ERROR(Optional(flags, "buckets_log2", &buckets_log2));
  RETURN_IF_ERROR(Optional(flags, "threshold_beta", &options.thresholds.beta));
  RETURN_IF_ERROR(Optional(flags, "max_positive_weight", &options.max_positive_weight));
  RETURN_IF_ERROR(Optional(flags, "source_balance_rows", &options.source_balance_rows));
  RETURN_IF_ERROR(Optional(flags, "max_source_weight", &options.max_source_weight));
  RETURN_IF_ERROR(Optional(flags, "l2", &options.l2));
  RETURN_IF_ERROR(Optional(flags, "length_norm", &length_norm));
  RETURN_IF_ERROR(Optional(flags, "dim", &dim));
  RETURN_IF_ERROR(Optional(flags, "hidden", &hidden));
  RETURN_IF_ERROR(Optional(flags, "hierarchy", &hierarchy));
  RETURN_IF_ERROR(Optional(flags, "feature_dropout", &options.feature_dropout));
  int source_offsets = 0;
  RETURN_IF_ERROR(Optional(flags, "source_offsets", &source_offsets));
  options.source_offsets = source_offsets == 1;
  RETURN_IF_ERROR(ReadGroupSourcesFlag(flags, &options.group_sources));
  if (seed < 0 || buckets_log2 < 0 || length_norm < 0 || dim < 0 || hidden < 0 || hierarchy < 0) {
    return absl::InvalidArgumentError("numeric flags of train must not be negative");
  }
  options.seed = static_cast<uint64_t>(seed);
  options.features.buckets_log2 = static_cast<uint32_t>(buckets_log2);
  options.features.length_norm = static_cast<uint32_t>(length_norm);
  RETURN_IF_ERROR(ReadRepeatsFlag(flags, &options.features));
  options.dim = static_cast<uint32_t>(dim);
  options.hidden = static_cast<uint32_t>(hidden);
  options.hierarchy = static_cast<Hierarchy>(hierarchy);
  if (const auto it = flags.find("id"); it != flags.end()) options.id = it->second;
  BagTrainReport report;
  ASSIGN_OR_RETURN(const BagModel model, TrainBag(examples, options, &report));
  RETURN_IF_ERROR(WriteBagModelFile(model, ResolvePath(out)));
  PrintTrainSummary(report.train_rows, report.dev_rows, report.epoch_loss, model.threshold, out);
  return absl::OkStatus();
}

absl::Status TrainCommand(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string data, Required(flags, "data"));
  ASSIGN_OR_RETURN(const std::string out, Required(flags, "out"));
  std::string kind = "linear";
  if (const auto it = flags.find("kind"); it != flags.end()) kind = it->second;
  if (kind != "linear" && kind != "bag") {
    return absl::InvalidArgumentError("--kind must be linear or bag, got " + kind);
  }
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadExamples(ResolvePath(data)));
  if (kind == "bag") return TrainBagCommand(flags, examples, out);
  TrainOptions options;
  int seed = 1;
  int buckets_log2 = static_cast<int>(options.features.buckets_log2);
  RETURN_IF_ERROR(Optional(flags, "seed", &seed));
  RETURN_IF_ERROR(Optional(flags, "epochs", &options.epochs));
  RETURN_IF_ERROR(Optional(flags, "learning_rate", &options.learning_rate));
  RETURN_IF_ERROR(Optional(flags, "buckets_log2", &buckets_log2));
  RETURN_IF_ERROR(Optional(flags, "threshold_beta", &options.threshold_beta));
  RETURN_IF_ERROR(Optional(flags, "max_positive_weight", &options.max_positive_weight));
  RETURN_IF_ERROR(Optional(flags, "source_balance_rows", &options.source_balance_rows));
  RETURN_IF_ERROR(Optional(flags, "max_source_weight", &options.max_source_weight));
  RETURN_IF_ERROR(Optional(flags, "average_from_epoch", &options.average_from_epoch));
  int source_offsets = 0;
  RETURN_IF_ERROR(Optional(flags, "source_offsets", &source_offsets));
  options.source_offsets = source_offsets == 1;
  RETURN_IF_ERROR(ReadGroupSourcesFlag(flags, &options.group_sources));
  RETURN_IF_ERROR(Optional(flags, "l2", &options.l2));
  int length_norm = static_cast<int>(options.features.length_norm);
  RETURN_IF_ERROR(Optional(flags, "length_norm", &length_norm));
  options.features.length_norm = static_cast<uint32_t>(length_norm);
  RETURN_IF_ERROR(ReadRepeatsFlag(flags, &options.features));
  options.seed = static_cast<uint64_t>(seed);
  options.features.buckets_log2 = static_cast<uint32_t>(buckets_log2);
  if (const auto it = flags.find("id"); it != flags.end()) options.id = it->second;
  TrainReport report;
  ASSIGN_OR_RETURN(const FastModel model, Train(examples, options, &report));
  RETURN_IF_ERROR(WriteFastModelFile(model, ResolvePath(out)));
  PrintTrainSummary(report.train_rows, report.dev_rows, report.epoch_loss, model.threshold, out);
  return absl::OkStatus();
}

// How the ensemble command fits its optional stacking layer.
struct StackingFlags {
  bool enabled = false;
  std::string data;   // --stacking_data: out-of-fold scored rows, else the development rows
  bool half = false;  // fit on one half of the development rows, thresholds on the other
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
  return out;
}

// Per-category AUPRC of `score` on `rows`, printed on one line (a development-rows check).
void PrintDevAuprc(const std::string& label, const std::vector<const Example*>& rows,
                   const std::function<CategoryArray(const std::string&)>& score) {
  std::array<std::vector<ScoredLabel>, kNumCategories> scored;
  for (const Example* e : rows) {
    const CategoryArray s = score(e->text);
    for (int c = 0; c < kNumCategories; ++c) {
      if (e->labels[c] != Label::kUnknown) scored[c].push_back({s[c], e->labels[c] == Label::kPositive});
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
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
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

// Fits contents->ensemble_stacking on `fit` (rows the members never trained on) and
// returns the classifier with the layer.
absl::StatusOr<std::unique_ptr<FastClassifier>> FitEnsembleStacking(
    const StackingFlags& flags, const std::vector<Example>& examples,
    const std::vector<const Example*>& fit, const FastClassifier& first_stage,
    ModelFileContents* contents) {
  // Source sizes as the trainers count them (all rows of the file), weights of the fit rows.
  std::vector<const Example*> all;
  all.reserve(examples.size());
  for (const Example& e : examples) all.push_back(&e);
  const std::vector<float> all_weight = SourceWeights(all, flags.source_balance_rows,
                                                      flags.max_source_weight, flags.group_sources);
  std::vector<float> weight;
  weight.reserve(fit.size());
  for (const Example* e : fit) weight.push_back(all_weight[static_cast<size_t>(e - examples.data())]);
  std::vector<CategoryArray> scores;
  scores.reserve(fit.size());
  for (const Example* e : fit) scores.push_back(first_stage.Score(e->text).scores);
  ASSIGN_OR_RETURN(contents->ensemble_stacking, FitStacking(fit, scores, weight, flags.train));
  std::cerr << "stacking layer fitted on " << fit.size() << " development rows (l2 "
            << flags.train.l2 << ")\n";
  return FastClassifier::FromContents(*contents);
}

absl::Status EnsembleCommand(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string linear_path, Required(flags, "linear"));
  ASSIGN_OR_RETURN(const std::string bag_path, Required(flags, "bag"));
  ASSIGN_OR_RETURN(const std::string data, Required(flags, "data"));
  ASSIGN_OR_RETURN(const std::string out, Required(flags, "out"));
  ASSIGN_OR_RETURN(const StackingFlags stacking, ReadStackingFlags(flags));
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
  ThresholdOptions options;
  RETURN_IF_ERROR(Optional(flags, "threshold_beta", &options.beta));
  int hierarchy = 0;
  RETURN_IF_ERROR(Optional(flags, "hierarchy", &hierarchy));
  if (hierarchy != 0 && hierarchy != 1) return absl::InvalidArgumentError("--hierarchy must be 0 or 1");
  contents.ensemble_hierarchy = static_cast<Hierarchy>(hierarchy);
  ASSIGN_OR_RETURN(std::unique_ptr<FastClassifier> classifier, FastClassifier::FromContents(contents));
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadExamples(ResolvePath(data)));
  std::vector<const Example*> dev, fit_rows, threshold_rows;
  for (const Example& e : examples) {
    if (!IsDevRow(e.text, 10)) continue;
    dev.push_back(&e);
    // Half split of the development rows (IsDevRow keeps CRC % 100 < 10).
    (!stacking.half || Crc32(e.text) % 100 < 5 ? fit_rows : threshold_rows).push_back(&e);
  }
  if (!stacking.half) threshold_rows = dev;
  if (stacking.enabled) {
    const auto score = [&](const std::string& text) { return classifier->Score(text).scores; };
    if (stacking.half) PrintDevAuprc("unstacked", threshold_rows, score);
    if (!stacking.data.empty()) {
      PrintDevAuprc("unstacked", dev, score);
      RETURN_IF_ERROR(FitStackingOnScoredRows(stacking, &contents));
      ASSIGN_OR_RETURN(classifier, FastClassifier::FromContents(contents));
      PrintDevAuprc("stacked", dev, score);
    } else {
      ASSIGN_OR_RETURN(classifier, FitEnsembleStacking(stacking, examples, fit_rows, *classifier, &contents));
    }
    if (stacking.half) PrintDevAuprc("stacked", threshold_rows, score);
  } else {
    threshold_rows = dev;
  }
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

absl::Status EvalCommand(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string data, Required(flags, "data"));
  if (flags.find("model") == flags.end()) return absl::InvalidArgumentError("missing --model");
  int min_positives = 10;
  RETURN_IF_ERROR(Optional(flags, "min_positives", &min_positives));
  int hierarchy = 0;
  RETURN_IF_ERROR(Optional(flags, "hierarchy", &hierarchy));
  ASSIGN_OR_RETURN(const auto classifier, LoadModel(flags));
  std::unique_ptr<FastClassifier> second;
  std::string name = classifier->name();
  std::array<float, kNumCategories> thresholds = classifier->default_thresholds();
  if (const auto it = flags.find("ensemble_with"); it != flags.end()) {
    ASSIGN_OR_RETURN(second, FastClassifier::Load(ResolvePath(it->second)));
    name = absl::StrCat("mean(", name, ", ", second->name(), ")");
    for (int c = 0; c < kNumCategories; ++c) {
      thresholds[c] = 0.5f * (thresholds[c] + second->default_thresholds()[c]);
    }
  }
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadExamples(ResolvePath(data)));
  std::vector<CategoryScores> scores;
  scores.reserve(examples.size());
  for (const Example& e : examples) {
    CategoryScores s = classifier->Score(e.text);
    if (second != nullptr) {
      const CategoryScores t = second->Score(e.text);
      for (int c = 0; c < kNumCategories; ++c) s.scores[c] = 0.5f * (s.scores[c] + t.scores[c]);
    }
    if (hierarchy == 1) ApplyHierarchy(Hierarchy::kChildAtMostParent, s.scores);
    scores.push_back(std::move(s));
  }
  const EvaluationReport report = Evaluate(examples, scores, thresholds, min_positives);
  std::cout << "model " << name << ", " << examples.size() << " rows\n"
            << FormatReport(report, min_positives);
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  const std::string usage =
      "usage: classifier score [--model FILE] | train --data F --out M [--seed S] "
      "[--epochs N] [--kind linear|bag] | ensemble --linear M --bag M --data F --out M | "
      "eval --model M --data F\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, 2);
  absl::Status status = flags.status();
  if (status.ok()) {
    if (command == "score") {
      status = Score(*flags);
    } else if (command == "train") {
      status = TrainCommand(*flags);
    } else if (command == "ensemble") {
      status = EnsembleCommand(*flags);
    } else if (command == "eval") {
      status = EvalCommand(*flags);
    } else {
      std::cerr << usage;
      return 2;
    }
  }
  if (!status.ok()) {
    std::cerr << "classifier " << command << ": " << status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace warden::moderation

int main(int argc, char** argv) { return warden::moderation::Main(argc, argv); }
