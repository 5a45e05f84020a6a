// Parses one policy file (text format, or JSON for "*.json") into a PolicySet and keeps
// the positions of its fields so later checks can point at file:line:column.
#ifndef WARDEN_POLICIES_POLICY_PARSER_H_
#define WARDEN_POLICIES_POLICY_PARSER_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "google/protobuf/text_format.h"
#include "policies/config_error.h"
#include "proto/policy.pb.h"

namespace warden::policies {

// A path to a field: (field name, index in a repeated field or -1), outermost first, e.g.
// {{"rules", 2}, {"regex", -1}, {"pattern", -1}}.
using FieldPath = std::vector<std::pair<std::string, int>>;

// One parsed file. Immutable after ParsePolicyFile; thread-compatible.
class ParsedPolicyFile {
 public:
  ParsedPolicyFile(std::string file, v1::PolicySet set,
                   std::unique_ptr<google::protobuf::TextFormat::ParseInfoTree> tree);

  const std::string& file() const { return file_; }
  const v1::PolicySet& set() const { return set_; }
  // The file's directory ("" for a bare name); term-list files are relative to it.
  std::string Directory() const;

  // An error located at `path` (or its nearest located ancestor when the field is absent
  // or the file was JSON).
  ConfigError Error(const FieldPath& path, std::string message) const;

 private:
  std::string file_;
  v1::PolicySet set_;
  std::unique_ptr<google::protobuf::TextFormat::ParseInfoTree> tree_;  // May be null.
};

// Parses `text` (the contents of `file`). On syntax errors, unknown fields or unknown enum
// values returns nullptr and appends every error with its line and column.
std::unique_ptr<ParsedPolicyFile> ParsePolicyFile(const std::string& file, std::string_view text,
                                                  std::vector<ConfigError>* errors);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_POLICY_PARSER_H_
