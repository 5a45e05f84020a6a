#include "policies/policy_parser.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/util/json_util.h"

namespace warden::policies {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects the text-format parser's errors as ConfigErrors of one file.
class Collector : public google::protobuf::io::ErrorCollector {
 public:
  Collector(const std::string& file, std::vector<ConfigError>* errors)
      : file_(file), errors_(errors) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_->push_back({file_, line + 1, column + 1, "", message});
    ++count_;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  int count() const { return count_; }

 private:
  const std::string& file_;
  std::vector<ConfigError>* errors_;
  int count_ = 0;
};

std::string PathString(const FieldPath& path) {
  std::string out;
  for (const auto& [name, index] : path) {
    if (!out.empty()) out += ".";
    out += name;
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
  }
  return out;
}

}  // namespace

ParsedPolicyFile::ParsedPolicyFile(std::string file, v1::PolicySet set,
                                   std::unique_ptr<TextFormat::ParseInfoTree> tree)
    : file_(std::move(file)), set_(std::move(set)), tree_(std::move(tree)) {}

std::string ParsedPolicyFile::Directory() const {
  const size_t slash = file_.find_last_of('/');
  return slash == std::string::npos ? "" : file_.substr(0, slash + 1);
}

ConfigError ParsedPolicyFile::Error(const FieldPath& path, std::string message) const {
  ConfigError error{file_, 0, 0, PathString(path), std::move(message)};
  const TextFormat::ParseInfoTree* tree = tree_.get();
  const Descriptor* type = v1::PolicySet::descriptor();
  for (const auto& [name, index] : path) {
    if (tree == nullptr || type == nullptr) break;
    const FieldDescriptor* field = type->FindFieldByName(name);
    if (field == nullptr) break;
    const int lookup = field->is_repeated() ? index : -1;
    const TextFormat::ParseLocation location = tree->GetLocation(field, lookup);
    if (location.line < 0) break;  // Absent: keep the parent's position.
    error.line = location.line + 1;
    error.column = location.column + 1;
    if (field->type() != FieldDescriptor::TYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, lookup);
    type = field->message_type();
  }
  return error;
}

std::unique_ptr<ParsedPolicyFile> ParsePolicyFile(const std::string& file, std::string_view text,
                                                  std::vector<ConfigError>* errors) {
  // Editors on Windows start UTF-8 files with a byte-order mark, which protobuf's parsers
  // refuse ("Interpreting non ascii codepoint 239"); it is not part of the text.
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  v1::PolicySet set;
  if (absl::EndsWith(file, ".json")) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(std::string(text), &set, options);
    if (!status.ok()) {
      errors->push_back({file, 0, 0, "", std::string(status.message())});
      return nullptr;
    }
    return std::make_unique<ParsedPolicyFile>(file, std::move(set), nullptr);
  }
  auto tree = std::make_unique<TextFormat::ParseInfoTree>();
  Collector collector(file, errors);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(tree.get());
  const bool ok = parser.ParseFromString(std::string(text), &set);
  if (!ok || collector.count() > 0) {
    if (collector.count() == 0) errors->push_back({file, 0, 0, "", "could not parse"});
    return nullptr;
  }
  return std::make_unique<ParsedPolicyFile>(file, std::move(set), std::move(tree));
}

}  // namespace warden::policies
