// Labelled examples for training and evaluation, read from JSON lines:
//   {"text": "...", "categories": ["hate", ...], "unknown": [...], "source": "..."}
// `categories` are positives; `unknown` (optional) lists categories the source does not
// judge for this row (skipped by training and metrics); every other category is negative.
// `group` (optional string) names the near-duplicate group of the row (one HateCheck
// template, one prompt's sentences; written by moderation/training/prepare.py): the
// development split can keep a group on one side (train_common.h, DevSplit). Other fields
// are ignored.
//
// Thread safety: free functions without shared state; Example is a plain value.
#ifndef WARDEN_MODERATION_DATASET_H_
#define WARDEN_MODERATION_DATASET_H_

#include <array>
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

enum class Label : int8_t { kUnknown = -1, kNegative = 0, kPositive = 1 };

struct Example {
  std::string text;
  std::array<Label, kNumCategories> labels{};  // index as kCategories
  std::string source;
  std::string group;  // empty: the row is its own group
};

// Parses one JSON line; InvalidArgument naming `origin` (e.g. "file:12") on malformed JSON,
// a missing/non-string text, an unknown category name or a "group" that is not a string.
// Keys other than text, categories, unknown, source and group are ignored; when
// `ignored_keys` is given, each such key of the row is counted there (a misspelt "labels"
// would otherwise make a positive row a silent negative: callers warn about them).
absl::StatusOr<Example> ParseExample(std::string_view line, std::string_view origin,
                                     std::map<std::string, int>* ignored_keys = nullptr);

// Reads every non-empty line of `path`, counting ignored keys as ParseExample does.
absl::StatusOr<std::vector<Example>> ReadExamples(const std::string& path,
                                                  std::map<std::string, int>* ignored_keys = nullptr);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_DATASET_H_
