#include "moderation/dataset.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/json_line.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

absl::Status ApplyCategoryList(const nlohmann::json& row, const char* key, Label label,
                               std::string_view origin, Example& example) {
  const auto it = row.find(key);
  if (it == row.end()) return absl::OkStatus();
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": \"", key, "\" is not an array"));
  }
  for (const auto& name : *it) {
    if (!name.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(origin), ": \"", key, "\" holds a non-string"));
    }
    auto category = CategoryFromName(name.get<std::string>());
    if (!category.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": ", category.status().message()));
    }
    example.labels[CategoryIndex(*category)] = label;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Example> ParseExample(std::string_view line, std::string_view origin,
                                     std::map<std::string, int>* ignored_keys) {
  const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (row.is_discarded() || !row.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": not a JSON object"));
  }
  const auto text = row.find("text");
  if (text == row.end() || !text->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": missing string \"text\""));
  }
  if (ignored_keys != nullptr) {
    for (const auto& [key, value] : row.items()) {
      if (key != "text" && key != "categories" && key != "unknown" && key != "source" && key != "group") {
        ++(*ignored_keys)[key];
      }
    }
  }
  Example example;
  example.text = text->get<std::string>();
  example.labels.fill(Label::kNegative);
  // Unknown first, so a category listed in both lists counts as positive.
  RETURN_IF_ERROR(ApplyCategoryList(row, "unknown", Label::kUnknown, origin, example));
  RETURN_IF_ERROR(ApplyCategoryList(row, "categories", Label::kPositive, origin, example));
  const auto source = row.find("source");
  if (source != row.end() && source->is_string()) example.source = source->get<std::string>();
  if (const auto group = row.find("group"); group != row.end()) {
    if (!group->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": \"group\" is not a string"));
    }
    example.group = group->get<std::string>();
  }
  return example;
}

absl::StatusOr<std::vector<Example>> ReadExamples(const std::string& path,
                                                  std::map<std::string, int>* ignored_keys) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open data file ", path));
  std::vector<Example> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (IsBlankLine(line)) continue;
    ASSIGN_OR_RETURN(Example example, ParseExample(line, absl::StrCat(path, ":", n), ignored_keys));
    out.push_back(std::move(example));
  }
  return out;
}

}  // namespace warden::moderation
