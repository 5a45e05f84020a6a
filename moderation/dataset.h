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
absl::StatusOr<Example> ParseExample(std::string_view line, std::string_view origin);

// Reads every non-empty line of `path`.
absl::StatusOr<std::vector<Example>> ReadExamples(const std::string& path);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_DATASET_H_
