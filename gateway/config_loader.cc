#include "gateway/config_loader.h"

#include <algorithm>
#include <filesystem>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "model/weight_options.h"
#include "moderation/long_text.h"
#include "moderation/taxonomy.h"
#include "proto/enum_values.h"

namespace warden::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::TextFormat;

// Collects protobuf's parse errors with their positions.
class ErrorList : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorList(std::string file) : file_(std::move(file)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, message);
  }
  std::vector<std::string>& errors() { return errors_; }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

// Semantic validation with field locations from the text-format parse tree (when there is
// one). `tree` may be null (JSON input): then positions are omitted.
class Validator {
 public:
  Validator(std::string file, std::vector<std::string>* errors) : file_(std::move(file)), errors_(errors) {}

  // Reports `message` about field `name` (index for repeated fields, -1 otherwise) of
  // `msg`, whose parse tree is `tree` and whose path from the root is `path`. A field that
  // is absent (a required one left out) is located at its message's opening.
  void Error(const Message& msg, const TextFormat::ParseInfoTree* tree, const std::string& path,
             const std::string& name, int index, const std::string& message) {
    std::string where = file_;
    const FieldDescriptor* field = msg.GetDescriptor()->FindFieldByName(name);
    TextFormat::ParseLocation location;
    // ParseInfoTree aborts when the index does not fit the field's label; check first.
    if (tree != nullptr && field != nullptr && field->is_repeated() == (index >= 0)) {
      location = tree->GetLocation(field, index);
    }
    if (location.line < 0 && tree != nullptr) {
      const auto opening = openings_.find(tree);
      if (opening != openings_.end()) location = opening->second;
    }
    if (location.line >= 0) where = absl::StrCat(file_, ":", location.line + 1, ":", location.column + 1);
    std::string field_path = path.empty() ? name : absl::StrCat(path, ".", name);
    if (index >= 0) absl::StrAppend(&field_path, "[", index, "]");
    errors_->push_back(absl::StrCat(where, ": ", field_path, ": ", message));
  }

  // The parse tree of message field `name` (at `index` when repeated) of `msg`, or null
  // when there is none; remembers where that message opens for Error.
  const TextFormat::ParseInfoTree* Nested(const Message& msg, const TextFormat::ParseInfoTree* tree,
                                          const std::string& name, int index) {
    if (tree == nullptr) return nullptr;
    const FieldDescriptor* field = msg.GetDescriptor()->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() != (index >= 0)) return nullptr;
    const TextFormat::ParseInfoTree* nested = tree->GetTreeForNested(field, index);
    if (nested != nullptr) openings_.emplace(nested, tree->GetLocation(field, index));
    return nested;
  }

 private:
  std::string file_;
  std::vector<std::string>* errors_;
  absl::flat_hash_map<const TextFormat::ParseInfoTree*, TextFormat::ParseLocation> openings_;
};

// "HOST:PORT" split at its last colon; false when there is no colon.
bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  return true;
}

// Every address of both families: gRPC's and the metrics server's IPv6 wildcard is
// dual-stack; an empty metrics host means the same.
bool IsAnyHost(const std::string& host) { return host.empty() || host == "[::]"; }

bool IsIpv4Literal(const std::string& host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return absl::ascii_isdigit(c) || c == '.'; });
}

// The listening addresses (listen, metrics_listen), each valid and on ports of their own.
void ValidateListenAddresses(Validator& v, const v1::ServerConfig& config, const TextFormat::ParseInfoTree* tree) {
  struct Field {
    const char* name;
    const std::string& address;
    bool allow_unix;  // gRPC listens on UNIX sockets; the metrics' HTTP server does not.
  };
  const Field fields[] = {{"listen", config.listen(), true}, {"metrics_listen", config.metrics_listen(), false}};
  bool valid = true;
  for (const auto& [name, address, allow_unix] : fields) {
    if (address.empty()) continue;  // listen: the default; metrics_listen: off.
    // The metrics server takes an empty host as every interface (":9464"); gRPC does not.
    const absl::Status status = ValidateListenAddress(address, allow_unix, /*empty_host_is_any=*/!allow_unix);
    if (!status.ok()) {
      v.Error(config, tree, "", name, -1, std::string(status.message()));
      valid = false;
    }
  }
  // The metrics listener binds first, and gRPC would then report the port "in use".
  if (valid && !config.listen().empty() && !config.metrics_listen().empty() &&
      SameListenPort(config.listen(), config.metrics_listen())) {
    v.Error(config, tree, "", "metrics_listen", -1,
            absl::StrCat("\"", config.metrics_listen(), "\" uses the port of listen \"", config.listen(),
                         "\"; give the metrics a port of their own"));
  }
}

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

// SHA-256 of "" (an API key is never empty: the authenticator refuses one).
constexpr char kEmptyKeySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool IsLowerHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// The LLM stage's settings: one policy source, and a policy for whatever is escalated.
void ValidateLlmPolicy(Validator& v, const v1::ModerationSettings& settings, const TextFormat::ParseInfoTree* tree,
                       const std::string& path) {
  const bool has_text = !settings.llm_policy().empty();
  const bool has_file = !settings.llm_policy_file().empty();
  if (has_text && has_file) {
    // At start the file's text replaces llm_policy.
    v.Error(settings, tree, path, "llm_policy_file", -1, "set llm_policy or llm_policy_file, not both");
  }
  if (has_text || has_file) return;
  // The pipeline escalates only to the app's own policy: without one, nothing would go to
  // the LLM policy classifier and the fast verdicts would stand unannounced.
  const char* why = "needs llm_policy or llm_policy_file: without a policy nothing is escalated";
  if (settings.uncertain_high() > settings.uncertain_low()) {
    v.Error(settings, tree, path, "uncertain_high", -1, absl::StrCat("the uncertain band ", why));
  }
  for (int i = 0; i < settings.categories_size(); ++i) {
    if (!settings.categories(i).escalate_to_llm()) continue;
    v.Error(settings.categories(i), v.Nested(settings, tree, "categories", i),
            absl::StrCat(path, ".categories[", i, "]"), "escalate_to_llm", -1, why);
  }
}

void ValidateModeration(Validator& v, const v1::ModerationSettings& settings,
                        const TextFormat::ParseInfoTree* tree, const std::string& path) {
  auto in_unit = [](float x) { return x >= 0.0f && x <= 1.0f; };
  if (!in_unit(settings.default_threshold())) {
    v.Error(settings, tree, path, "default_threshold", -1, "must be in [0, 1]");
  }
  if (!in_unit(settings.uncertain_low()) || !in_unit(settings.uncertain_high()) ||
      settings.uncertain_low() > settings.uncertain_high()) {
    v.Error(settings, tree, path, "uncertain_low", -1,
            "uncertain band must satisfy 0 <= uncertain_low <= uncertain_high <= 1");
  }
  if (const absl::Status windows = moderation::ValidateWindowWords(settings.long_text_window_words());
      !windows.ok()) {
    v.Error(settings, tree, path, "long_text_window_words", -1,
            absl::StrCat("must be 0 (off) or between ", moderation::kMinWindowWords, " and ",
                         moderation::kMaxWindowWords, " words"));
  }
  absl::flat_hash_set<int> seen;
  for (int i = 0; i < settings.categories_size(); ++i) {
    const auto& category = settings.categories(i);
    const auto* sub = v.Nested(settings, tree, "categories", i);
    const std::string sub_path = absl::StrCat(path, ".categories[", i, "]");
    if (category.category() == v1::CATEGORY_UNSPECIFIED) {
      v.Error(category, sub, sub_path, "category", -1, "must be set");
    } else if (!v1::Category_IsValid(category.category())) {
      // An unknown number: ReportUnknownEnum says so (it has no name to report here).
    } else if (moderation::CategoryIndex(category.category()) < 0) {
      // The pipeline would refuse it on every check (failing every text closed, or with
      // FAIL_OPEN passing every text unclassified).
      v.Error(category, sub, sub_path, "category", -1,
              absl::StrCat(v1::Category_Name(category.category()),
                           " is not a classifier category (policy filters set theirs in policy files)"));
    } else if (!seen.insert(category.category()).second) {
      v.Error(category, sub, sub_path, "category", -1, "duplicate category setting");
    }
    // 0 inherits (default_threshold, else the classifier's own; 0.5 for an escalated
    // category's LLM score), so a setting may change only the action or the escalation.
    if (!(category.threshold() >= 0.0f && category.threshold() <= 1.0f)) {
      v.Error(category, sub, sub_path, "threshold", -1, "must be in [0, 1] (0 = inherit)");
    }
  }
  ValidateLlmPolicy(v, settings, tree, path);
}

void ValidateLimits(Validator& v, const v1::Limits& limits, const TextFormat::ParseInfoTree* tree,
                    const std::string& path) {
  const auto at_most = [&](const char* field, uint32_t value, uint32_t bound) {
    if (value > bound) v.Error(limits, tree, path, field, -1, absl::StrCat("must be at most ", bound, " (0 = default)"));
  };
  at_most("max_request_bytes", limits.max_request_bytes(), kMaxRequestBytesLimit);
  at_most("max_output_tokens", limits.max_output_tokens(), kMaxOutputTokensLimit);
  at_most("max_moderate_batch", limits.max_moderate_batch(), kMaxModerateBatchLimit);
}

void ValidateApp(Validator& v, const v1::App& app, const TextFormat::ParseInfoTree* tree,
                 const std::string& path, absl::flat_hash_set<std::string>* key_hashes) {
  if (app.id().empty()) v.Error(app, tree, path, "id", -1, "must be set");
  for (int i = 0; i < app.api_keys_size(); ++i) {
    const auto& key = app.api_keys(i);
    const auto* sub = v.Nested(app, tree, "api_keys", i);
    const std::string sub_path = absl::StrCat(path, ".api_keys[", i, "]");
    if (!IsLowerHex64(key.sha256())) {
      v.Error(key, sub, sub_path, "sha256", -1,
              "must be the SHA-256 of the key as 64 lowercase hex characters (never the key itself)");
    } else if (key.sha256() == kEmptyKeySha256) {
      // `printf %s "$KEY" | sha256sum` with KEY unset: no client can send an empty key.
      v.Error(key, sub, sub_path, "sha256", -1,
              "is the SHA-256 of the empty string: the key was empty when it was hashed");
    } else if (!key_hashes->insert(key.sha256()).second) {
      v.Error(key, sub, sub_path, "sha256", -1, "the same key is configured twice");
    }
    if (key.role() == v1::KEY_ROLE_UNSPECIFIED) v.Error(key, sub, sub_path, "role", -1, "must be APP or ADMIN");
  }
  ValidateLimits(v, app.limits(), v.Nested(app, tree, "limits", -1), path + ".limits");
  ValidateModeration(v, app.input_moderation(), v.Nested(app, tree, "input_moderation", -1),
                     path + ".input_moderation");
  ValidateModeration(v, app.output_moderation(), v.Nested(app, tree, "output_moderation", -1),
                     path + ".output_moderation");
}

// Reports an enum field of `root` whose number its enum does not name, at its position.
void ReportUnknownEnum(Validator& v, const Message& root, const TextFormat::ParseInfoTree* tree,
                       const UnknownEnumValue& unknown) {
  const Message* message = &root;
  std::string path;
  for (size_t k = 0; k + 1 < unknown.path.size(); ++k) {
    const auto& [name, index] = unknown.path[k];
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(name);
    const google::protobuf::Reflection* reflection = message->GetReflection();
    tree = v.Nested(*message, tree, name, index);
    path = path.empty() ? name : absl::StrCat(path, ".", name);
    if (index >= 0) absl::StrAppend(&path, "[", index, "]");
    message = index >= 0 ? &reflection->GetRepeatedMessage(*message, field, index)
                         : &reflection->GetMessage(*message, field);
  }
  const auto& [name, index] = unknown.path.back();
  v.Error(*message, tree, path, name, index,
          absl::StrCat(unknown.value, " is not a ", unknown.enum_name, " value (use its name)"));
}

void ValidateConfig(Validator& v, const v1::ServerConfig& config, const TextFormat::ParseInfoTree* tree) {
  // Open proto3 enums take any number; a rank-compared action 5 would outrank BLOCK.
  for (const UnknownEnumValue& unknown : FindUnknownEnumValues(config)) ReportUnknownEnum(v, config, tree, unknown);
  if (auto mode = model::ParseWeightMode(config.model().weight_mode()); !mode.ok()) {
    v.Error(config.model(), v.Nested(config, tree, "model", -1), "model", "weight_mode", -1,
            std::string(mode.status().message()));
  }
  if (auto memory = model::ParseResidency(config.model().weight_memory()); !memory.ok()) {
    v.Error(config.model(), v.Nested(config, tree, "model", -1), "model", "weight_memory", -1,
            std::string(memory.status().message()));
  }
  if (config.model().max_running_sequences() > static_cast<uint32_t>(kMaxRunningSequences)) {
    v.Error(config.model(), v.Nested(config, tree, "model", -1), "model", "max_running_sequences", -1,
            absl::StrCat("must be at most ", kMaxRunningSequences, " (0 = ", kDefaultRunningSequences, ")"));
  }
  if (config.model().threads() > kMaxModelThreads) {
    v.Error(config.model(), v.Nested(config, tree, "model", -1), "model", "threads", -1,
            absl::StrCat("must be at most ", kMaxModelThreads, " (0 = one per core)"));
  }
  if (config.model().kv_cache_bytes() > kMaxKvCacheBytes) {
    v.Error(config.model(), v.Nested(config, tree, "model", -1), "model", "kv_cache_bytes", -1,
            absl::StrCat("must be at most ", kMaxKvCacheBytes, " (2^60; 0 = 1 GiB)"));
  }
  if (config.stream_write_timeout_seconds() > kMaxStreamWriteTimeoutSeconds) {
    v.Error(config, tree, "", "stream_write_timeout_seconds", -1,
            absl::StrCat("must be at most ", kMaxStreamWriteTimeoutSeconds, " (0 = ",
                         kDefaultStreamWriteTimeoutSeconds, ")"));
  }
  ValidateListenAddresses(v, config, tree);
  if (config.model().model_dir().empty()) {
    v.Error(config, tree, "", "model", -1, "model.model_dir must be set");
  }
  if (config.audit().path().empty()) v.Error(config, tree, "", "audit", -1, "audit.path must be set");
  if (config.apps_size() == 0) v.Error(config, tree, "", "apps", -1, "at least one app is required");
  absl::flat_hash_set<std::string> app_ids, key_hashes;
  for (int i = 0; i < config.apps_size(); ++i) {
    const auto* sub = v.Nested(config, tree, "apps", i);
    const std::string path = absl::StrCat("apps[", i, "]");
    ValidateApp(v, config.apps(i), sub, path, &key_hashes);
    if (!config.apps(i).id().empty() && !app_ids.insert(config.apps(i).id()).second) {
      v.Error(config.apps(i), sub, path, "id", -1, absl::StrCat("duplicate app id \"", config.apps(i).id(), "\""));
    }
  }
  const auto& tls = config.tls();
  if (tls.cert_file().empty() != tls.key_file().empty()) {
    v.Error(config, tree, "", "tls", -1, "tls.cert_file and tls.key_file must be set together");
  }
  if (!tls.client_ca_file().empty() && tls.cert_file().empty()) {
    v.Error(config, tree, "", "tls", -1, "tls.client_ca_file needs tls.cert_file and tls.key_file");
  }
}

// LoadedConfig::policy_set_locations from the text-format parse tree.
std::map<std::string, FieldLocation> PolicySetLocations(const v1::ServerConfig& config,
                                                        const TextFormat::ParseInfoTree& tree) {
  std::map<std::string, FieldLocation> locations;
  const FieldDescriptor* apps = v1::ServerConfig::descriptor()->FindFieldByName("apps");
  for (int a = 0; a < config.apps_size(); ++a) {
    const TextFormat::ParseInfoTree* app = tree.GetTreeForNested(apps, a);
    if (app == nullptr) continue;
    for (const char* name : {"input_policy_sets", "output_policy_sets"}) {
      const FieldDescriptor* field = v1::App::descriptor()->FindFieldByName(name);
      const int count = config.apps(a).GetReflection()->FieldSize(config.apps(a), field);
      FieldLocation list;  // Protobuf locates a list ("[a, b]") at its first value only.
      for (int i = 0; i < count; ++i) {
        const TextFormat::ParseLocation location = app->GetLocation(field, i);
        if (location.line >= 0) list = {location.line + 1, location.column + 1};
        if (list.line > 0) locations[absl::StrCat("apps[", a, "].", name, "[", i, "]")] = list;
      }
    }
  }
  return locations;
}

void ResolvePaths(v1::ServerConfig* config, const std::string& base_dir) {
  auto resolve = [&](std::string* path) { *path = ResolvePath(base_dir, *path); };
  resolve(config->mutable_model()->mutable_model_dir());
  resolve(config->mutable_model()->mutable_tokenizer_file());
  resolve(config->mutable_audit()->mutable_path());
  resolve(config->mutable_tls()->mutable_cert_file());
  resolve(config->mutable_tls()->mutable_key_file());
  resolve(config->mutable_tls()->mutable_client_ca_file());
  resolve(config->mutable_classifier_model());
  for (auto& file : *config->mutable_policy_files()) resolve(&file);
  for (auto& app : *config->mutable_apps()) {
    resolve(app.mutable_input_moderation()->mutable_llm_policy_file());
    resolve(app.mutable_output_moderation()->mutable_llm_policy_file());
  }
}

}  // namespace

absl::Status ValidateListenAddress(const std::string& address, bool allow_unix, bool empty_host_is_any) {
  if (allow_unix && (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:"))) {
    if (address.back() != ':') return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" names no socket path"));
  }
  const std::string example = " (e.g. 127.0.0.1:50051, [::1]:50051, 0.0.0.0:50051)";
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" must be HOST:PORT", example));
  }
  if (host.empty() && !empty_host_is_any) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" names no host", example));
  }
  const bool bracketed = !host.empty() && host.front() == '[' && host.back() == ']' && host.size() > 2;
  if (!bracketed && host.find_first_of("[]:") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\": an IPv6 host must be in brackets", example));
  }
  uint32_t number = 0;
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &number) || number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\": the port must be a number from 0 to 65535 (0: any free port)"));
  }
  return absl::OkStatus();
}

bool SameListenPort(const std::string& a, const std::string& b) {
  if (absl::StartsWith(a, "unix") || absl::StartsWith(b, "unix")) return false;  // a socket file, no port
  std::string host_a, port_a, host_b, port_b;
  if (!SplitHostPort(a, &host_a, &port_a) || !SplitHostPort(b, &host_b, &port_b)) return false;
  if (port_a != port_b || port_a == "0") return false;
  if (host_a == host_b || IsAnyHost(host_a) || IsAnyHost(host_b)) return true;
  // 0.0.0.0 takes every IPv4 address only; a host name is not resolved here (a clash the
  // check misses is still reported when binding).
  return (host_a == "0.0.0.0" && IsIpv4Literal(host_b)) || (host_b == "0.0.0.0" && IsIpv4Literal(host_a));
}

std::string ResolvePath(const std::string& base_dir, const std::string& relative) {
  if (relative.empty() || relative[0] == '/' || base_dir.empty()) return relative;
  return absl::StrCat(base_dir, "/", relative);
}

absl::StatusOr<LoadedConfig> ParseServerConfig(const std::string& text_with_bom, const std::string& path,
                                               const std::string& base_dir) {
  // Editors on Windows start UTF-8 files with a byte-order mark, which protobuf's parsers
  // refuse ("Interpreting non ascii codepoint 239"); it is not part of the text.
  const std::string text =
      absl::StartsWith(text_with_bom, kUtf8Bom) ? text_with_bom.substr(kUtf8Bom.size()) : text_with_bom;
  LoadedConfig loaded;
  loaded.path = path;
  loaded.base_dir = base_dir;
  std::vector<std::string> errors;
  TextFormat::ParseInfoTree tree;
  const TextFormat::ParseInfoTree* tree_ptr = nullptr;
  if (absl::EndsWith(path, ".json")) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(text, &loaded.config, options);
    if (!status.ok()) errors.push_back(absl::StrCat(path, ": ", status.message().as_string()));
  } else {
    ErrorList collector(path);
    TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    parser.WriteLocationsTo(&tree);
    if (!parser.ParseFromString(text, &loaded.config)) errors = std::move(collector.errors());
    tree_ptr = &tree;
  }
  if (errors.empty()) {
    Validator validator(path, &errors);
    ValidateConfig(validator, loaded.config, tree_ptr);
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid configuration:\n  ", absl::StrJoin(errors, "\n  ")));
  }
  if (tree_ptr != nullptr) loaded.policy_set_locations = PolicySetLocations(loaded.config, *tree_ptr);
  ResolvePaths(&loaded.config, base_dir);
  return loaded;
}

absl::StatusOr<LoadedConfig> LoadServerConfig(const std::string& path) {
  // A directory opens and reads as empty text, which would be reported as every required
  // field missing.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::NotFoundError(absl::StrCat("configuration file: ", path, " is a directory"));
  }
  auto text = ReadFile(path);
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("configuration file: ", text.status().message()));
  const size_t slash = path.find_last_of('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return ParseServerConfig(*text, path, base_dir);
}

}  // namespace warden::gateway
