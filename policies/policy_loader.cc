#include "policies/policy_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "policies/policy_parser.h"
#include "policies/rule_compiler.h"
#include "proto/enum_values.h"

namespace warden::policies {
namespace {

// Parses and compiles every text, appending all errors; the sets are valid only when
// `errors` stayed empty.
std::vector<std::unique_ptr<CompiledSet>> CompileAll(
    const std::vector<std::pair<std::string, std::string>>& texts,
    std::vector<ConfigError>* errors) {
  std::vector<std::unique_ptr<CompiledSet>> sets;
  absl::flat_hash_map<std::string, std::string> owner;  // Set id -> file.
  for (const auto& [name, text] : texts) {
    if (name.empty()) {  // Errors are located by the name, and term lists read next to it.
      errors->push_back({"", 0, 0, "", "a policy file has an empty name"});
      continue;
    }
    std::unique_ptr<ParsedPolicyFile> parsed = ParsePolicyFile(name, text, errors);
    if (parsed == nullptr) continue;
    // Open proto3 enums take any number; a rank-compared action 5 would outrank BLOCK. Such
    // a file is not compiled (its rules' checks would report the same fields again).
    const std::vector<UnknownEnumValue> unknown_enums = FindUnknownEnumValues(parsed->set());
    for (const UnknownEnumValue& unknown : unknown_enums) {
      errors->push_back(parsed->Error(unknown.path, absl::StrCat(unknown.value, " is not a ", unknown.enum_name,
                                                                 " value (use its name)")));
    }
    if (!unknown_enums.empty()) continue;
    const std::string& id = parsed->set().id();
    if (!id.empty()) {
      auto [it, inserted] = owner.emplace(id, name);
      if (!inserted) {
        errors->push_back(parsed->Error({{"id", -1}}, absl::StrCat("duplicate policy set id '", id,
                                                                   "' (also in ", it->second, ")")));
      }
    }
    std::unique_ptr<CompiledSet> set = CompileSet(*parsed, errors);
    if (set != nullptr) sets.push_back(std::move(set));
  }
  return sets;
}

absl::StatusOr<std::shared_ptr<const CompiledPolicies>> Load(
    const std::vector<std::pair<std::string, std::string>>& texts,
    std::vector<ConfigError> errors) {
  std::vector<std::unique_ptr<CompiledSet>> sets = CompileAll(texts, &errors);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return CompiledPolicies::Create(std::move(sets));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledPolicies>> LoadPolicyFiles(
    const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> texts;
  std::vector<ConfigError> errors;
  for (const std::string& path : paths) {
    // A directory opens and reads as empty text ("policy set id is required").
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      errors.push_back({path, 0, 0, "", "is a directory, not a policy file"});
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      errors.push_back({path, 0, 0, "", "cannot open policy file"});
      continue;
    }
    std::stringstream contents;
    contents << in.rdbuf();
    texts.emplace_back(path, contents.str());
  }
  return Load(texts, std::move(errors));
}

absl::StatusOr<std::shared_ptr<const CompiledPolicies>> LoadPolicyTexts(
    const std::map<std::string, std::string>& texts) {
  return Load({texts.begin(), texts.end()}, {});
}

std::vector<ConfigError> ValidatePolicyTexts(const std::map<std::string, std::string>& texts) {
  std::vector<ConfigError> errors;
  CompileAll({texts.begin(), texts.end()}, &errors);
  return errors;
}

std::vector<ConfigError> TermFilesOutside(const std::map<std::string, std::string>& texts,
                                          const std::vector<std::string>& allowed_dirs) {
  namespace fs = std::filesystem;
  std::vector<fs::path> allowed;
  for (const std::string& dir : allowed_dirs) {
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(dir, error), error);
    if (!error) allowed.push_back(canonical);
  }
  const auto inside = [&](const fs::path& path) {
    for (const fs::path& dir : allowed) {
      const auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
      if (d == dir.end()) return true;
    }
    return false;
  };
  std::vector<ConfigError> errors;
  for (const auto& [name, text] : texts) {
    std::vector<ConfigError> parse_errors;  // Reported by ValidatePolicyTexts.
    std::unique_ptr<ParsedPolicyFile> parsed = ParsePolicyFile(name, text, &parse_errors);
    if (parsed == nullptr) continue;
    for (int i = 0; i < parsed->set().rules_size(); ++i) {
      const v1::Rule& rule = parsed->set().rules(i);
      if (!rule.has_term_list() || rule.term_list().file().empty()) continue;
      const std::string& file = rule.term_list().file();
      const fs::path named = file[0] == '/' ? fs::path(file) : fs::path(name).parent_path() / file;
      std::error_code error;
      const fs::path resolved = fs::weakly_canonical(fs::absolute(named, error), error);
      if (!error && inside(resolved)) continue;
      errors.push_back(parsed->Error({{"rules", i}, {"term_list", -1}, {"file", -1}},
                                     "a policy sent with the request may name only term files in the "
                                     "server's policy folders; list the terms inline"));
    }
  }
  return errors;
}

}  // namespace warden::policies
