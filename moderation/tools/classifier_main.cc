// `classifier`: score texts with the fast classifier, train a model, evaluate a model.
//
//   classifier score [--model FILE] [--window_words N]
//       JSON lines {"text": ...} on stdin -> {"scores": {"harassment": p, ...}} per line,
//       all fifteen categories. Without --model, the shipped default model is used (see
//       moderation/default_model.h for where it is looked up). A malformed input line gives
//       {"error": "..."} on that line and exit status 1 at the end; a blank line gives none.
//       --window_words N (0 = off, else 16-4096) also scores a text of more than N words
//       in windows of its sentences (moderation/long_text.h) and gives each category's
//       highest score, as the pipeline's long_text_window_words does.
//   classifier train --data FILE.jsonl --out MODEL [--seed S] [--epochs N]
//       [--learning_rate F] [--buckets_log2 B] [--threshold_beta F]
//       [--max_positive_weight F] [--source_balance_rows N] [--max_source_weight F]
//       [--group_sources 0|1] [--dev_split text|group] [--average_from_epoch E]
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
//       --dev_split group keeps back the development rows (10 %) by a hash of each row's
//       "group" when it has one (one HateCheck template, one prompt's sentences), else of
//       its text; text (the default) hashes every row's text (DevSplit in train_common.h).
//   classifier ensemble --linear MODEL --bag MODEL --data FILE.jsonl --out MODEL [--id ID]
//       [--threshold_beta F] [--threshold_resamples N] [--hierarchy 0|1] [--dev_split text|group]
//       Combines a linear and an embedding-bag model (same text folding) into one ensemble
//       model file that averages their probabilities; its thresholds are chosen on the
//       development rows of FILE (the same 10 % the trainers keep back with the same
//       --dev_split; the halves of --stacking_rows half follow it too): the maximum of
//       F-beta, or with --threshold_resamples N (0-10000) the median of its maxima over N
//       bootstrap resamples of those rows (BootstrapMedianThreshold in metrics.h).
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
//       [--ensemble_with MODEL2] [--window_words N]
//       --hierarchy 1 caps subcategory scores at their parent's before evaluating;
//       --ensemble_with averages the two models' scores and thresholds (for comparisons);
//       --window_words scores as `score --window_words` does (each model windowed alone).
//       The report ends its summary with the benign-text check (evaluation.h): false
//       positives and mean/max scores on the rows of benign sources, per category.
//
// Relative paths are resolved against the directory `bazel run` was started from
// ($BUILD_WORKING_DIRECTORY) when set.
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/json_line.h"
#include "base/status_macros.h"
#include "moderation/bag_model.h"
#include "moderation/bag_trainer.h"
#include "moderation/dataset.h"
#include "moderation/default_model.h"
#include "moderation/evaluation.h"
#include "moderation/fast_classifier.h"
#include "moderation/long_text.h"
#include "moderation/model_file.h"
#include "moderation/train_common.h"
#include "moderation/tools/ensemble_command.h"
#include "moderation/tools/tool_flags.h"
#include "moderation/trainer.h"

namespace warden::moderation {
namespace {

using tools::EnsembleCommand;
using tools::Flags;
using tools::Optional;
using tools::ReadDataRows;
using tools::ParseFlags;
using tools::ReadDevSplitFlag;
using tools::ReadGroupSourcesFlag;
using tools::Required;
using tools::ResolvePath;

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

// --window_words (0 when absent), checked as the pipeline checks long_text_window_words.
absl::StatusOr<int> ReadWindowWordsFlag(const Flags& flags) {
  int window_words = 0;
  RETURN_IF_ERROR(Optional(flags, "window_words", &window_words));
  RETURN_IF_ERROR(ValidateWindowWords(window_words));
  return window_words;
}

// The model's scores of `text`, windowed when window_words > 0 (long_text.h).
absl::StatusOr<CategoryScores> ScoreText(const FastClassifier& classifier, const std::string& text,
                                         int window_words) {
  if (window_words == 0) return classifier.Score(text);
  return ScoreWithWindows(classifier, text, window_words);
}

absl::Status Score(const Flags& flags) {
  ASSIGN_OR_RETURN(const int window_words, ReadWindowWordsFlag(flags));
  ASSIGN_OR_RETURN(const auto classifier, LoadModel(flags));
  std::string line;
  bool all_ok = true;
  while (std::getline(std::cin, line)) {
    if (IsBlankLine(line)) continue;
    // Text that is not Unicode (an escaped lone surrogate, raw non-UTF-8 bytes) is scored
    // with U+FFFD in its place rather than refused (base/json_line.h).
    std::string parse_error;
    const nlohmann::json row = ParseJsonLine(line, &parse_error);
    nlohmann::json out;
    if (row.is_object() && row.contains("text") && row["text"].is_string()) {
      absl::StatusOr<CategoryScores> scores = ScoreText(*classifier, row["text"].get<std::string>(), window_words);
      if (scores.ok()) {
        out["scores"] = ScoresJson(*scores);
      } else {
        out["error"] = std::string(scores.status().message());
        all_ok = false;
      }
    } else {
      out["error"] = absl::StrCat("expected a JSON object with a string \"text\"",
                                  parse_error.empty() ? "" : " (" + parse_error + ")");
      all_ok = false;
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  // A full disk under `score > scores.jsonl` lost the scores behind exit 0.
  if (!std::cout) return absl::DataLossError("writing the scores to standard output failed");
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

// --source_offsets: 0 (the default) or 1; another value (7 trained without offsets) is refused.
absl::Status ReadSourceOffsetsFlag(const Flags& flags, bool* source_offsets) {
  int value = 0;
  RETURN_IF_ERROR(Optional(flags, "source_offsets", &value));
  if (value != 0 && value != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--source_offsets must be 0 or 1, got ", value));
  }
  *source_offsets = value == 1;
  return absl::OkStatus();
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
  RETURN_IF_ERROR(ReadSourceOffsetsFlag(flags, &options.source_offsets));
  RETURN_IF_ERROR(ReadGroupSourcesFlag(flags, &options.group_sources));
  RETURN_IF_ERROR(ReadDevSplitFlag(flags, &options.dev_split));
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
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadDataRows(ResolvePath(data)));
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
  RETURN_IF_ERROR(ReadSourceOffsetsFlag(flags, &options.source_offsets));
  RETURN_IF_ERROR(ReadGroupSourcesFlag(flags, &options.group_sources));
  RETURN_IF_ERROR(ReadDevSplitFlag(flags, &options.dev_split));
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

absl::Status EvalCommand(const Flags& flags) {
  ASSIGN_OR_RETURN(const std::string data, Required(flags, "data"));
  if (flags.find("model") == flags.end()) return absl::InvalidArgumentError("missing --model");
  int min_positives = 10;
  RETURN_IF_ERROR(Optional(flags, "min_positives", &min_positives));
  int hierarchy = 0;
  RETURN_IF_ERROR(Optional(flags, "hierarchy", &hierarchy));
  if (hierarchy != 0 && hierarchy != 1) {  // another value evaluated without the cap
    return absl::InvalidArgumentError(absl::StrCat("--hierarchy must be 0 or 1, got ", hierarchy));
  }
  ASSIGN_OR_RETURN(const int window_words, ReadWindowWordsFlag(flags));
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
  ASSIGN_OR_RETURN(const std::vector<Example> examples, ReadDataRows(ResolvePath(data)));
  std::vector<CategoryScores> scores;
  scores.reserve(examples.size());
  for (const Example& e : examples) {
    ASSIGN_OR_RETURN(CategoryScores s, ScoreText(*classifier, e.text, window_words));
    if (second != nullptr) {
      ASSIGN_OR_RETURN(const CategoryScores t, ScoreText(*second, e.text, window_words));
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

// The flags each command reads (TrainCommand and TrainBagCommand share one list; the
// ensemble's are read in ensemble_command.cc).
const std::map<std::string, std::set<std::string>>& CommandFlags() {
  static const auto* const kFlags = new std::map<std::string, std::set<std::string>>{
      {"score", {"model", "window_words"}},
      {"train",
       {"data", "out", "seed", "epochs", "learning_rate", "buckets_log2", "threshold_beta", "max_positive_weight",
        "source_balance_rows", "max_source_weight", "group_sources", "dev_split", "average_from_epoch",
        "length_norm", "repeats", "l2", "source_offsets", "id", "kind", "dim", "hidden", "hierarchy",
        "feature_dropout"}},
      {"ensemble",
       {"linear", "bag", "data", "out", "id", "threshold_beta", "threshold_resamples", "hierarchy", "dev_split",
        "stacking", "stacking_l2",
        "stacking_rows", "stacking_inputs", "stacking_data", "source_balance_rows", "max_source_weight",
        "group_sources"}},
      {"eval", {"model", "data", "min_positives", "hierarchy", "ensemble_with", "window_words"}},
  };
  return *kFlags;
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
  // Asked-for help goes to stdout with exit 0 ("score --help" read --help as a flag
  // missing its value; "classifier --help" exited 2 like a mistake).
  const auto is_help = [](const std::string& arg) { return arg == "--help" || arg == "-h" || arg == "help"; };
  if (is_help(command) || (argc > 2 && is_help(argv[2]))) {
    std::cout << usage;
    return 0;
  }
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, 2);
  absl::Status status = flags.status();
  if (const auto known = CommandFlags().find(command); status.ok() && known != CommandFlags().end()) {
    status = tools::CheckKnownFlags(*flags, known->second);
  }
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
