#include "gateway/request_validation.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "model/harmony/tools_section.h"
#include "nlohmann/json.hpp"

namespace warden::gateway {
namespace {

absl::Status CheckUtf8(const std::string& text, const std::string& field) {
  const size_t bad = FirstInvalidUtf8(text);
  if (bad == text.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8 (first bad byte at offset ", bad, ")"));
}

absl::Status CheckSize(size_t bytes, const v1::Limits& limits) {
  if (bytes > limits.max_request_bytes()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("limit max_request_bytes (", limits.max_request_bytes(), ") exceeded: request has ", bytes, " bytes"));
  }
  return absl::OkStatus();
}

// The model calls a tool by the recipient "functions.<name>", which ends at the first
// character outside this set; other names could not be called (the OpenAI API's rule).
absl::Status CheckToolName(const std::string& name, const std::string& field) {
  constexpr size_t kMaxToolName = 64;
  if (name.empty()) return absl::InvalidArgumentError(field + " must be set");
  const bool allowed = name.size() <= kMaxToolName && std::all_of(name.begin(), name.end(), [](char c) {
                         return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                       });
  if (!allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 1 to ", kMaxToolName, " characters of a-z, A-Z, 0-9, '_' or '-'"));
  }
  return absl::OkStatus();
}

// Reads a parameter schema event by event (nlohmann's SAX interface), so that no bound is
// exceeded before it is noticed: stops at the first value that is not an object at the top,
// the first object member, value or level over the bounds (request_validation.h), or the
// first syntax error; `error()` says which. With `text`, appends every key and string value
// to it, in document order, one per line.
class SchemaReader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit SchemaReader(std::string* text) : text_(text) {}

  bool null() override { return Value(false); }
  bool boolean(bool) override { return Value(false); }
  // Numbers are text too: the renderer writes defaults ("// default: 4111111111111111").
  bool number_integer(number_integer_t value) override { return Number(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return Number(std::to_string(value)); }
  // As sent, and as the renderer writes it (41111111111111110e-1 -> 4.111111111111111e15).
  bool number_float(number_float_t value, const string_t& raw) override {
    const std::string rendered = model::harmony::CompactJson(nlohmann::ordered_json(value));
    return Number(rendered == raw ? raw : raw + "\n" + rendered);
  }
  bool binary(binary_t&) override { return Value(false); }  // Never in JSON text.
  bool string(string_t& value) override {
    if (!Value(false)) return false;
    Collect(value);
    return true;
  }
  bool start_object(std::size_t) override {
    if (!Value(true) || !Deeper()) return false;
    members_.push_back(0);
    return true;
  }
  bool key(string_t& key) override {
    if (++members_.back() > kMaxSchemaObjectMembers) {
      return Fail(absl::StrCat("has an object with more than ", kMaxSchemaObjectMembers, " members"));
    }
    Collect(key);
    return true;
  }
  bool end_object() override {
    members_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return Value(false) && Deeper(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return Fail("is not valid JSON");
  }

  // Empty when the schema was read whole within the bounds.
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }
  bool Value(bool object) {
    if (nodes_ == 0 && !object) return Fail("must be a JSON Schema object ({...})");
    if (++nodes_ > kMaxSchemaNodes) return Fail(absl::StrCat("has more than ", kMaxSchemaNodes, " JSON values"));
    return true;
  }
  bool Number(const std::string& text) {
    if (!Value(false)) return false;
    Collect(text);
    return true;
  }
  bool Deeper() {
    if (++depth_ > kMaxSchemaDepth) return Fail(absl::StrCat("has values that nest deeper than ", kMaxSchemaDepth, " levels"));
    return true;
  }
  void Collect(const std::string& piece) {
    if (text_ == nullptr || piece.empty()) return;
    if (!text_->empty()) text_->push_back('\n');
    text_->append(piece);
  }

  std::string* text_;
  std::string error_;
  size_t nodes_ = 0;
  int depth_ = 0;
  std::vector<size_t> members_;  // Of each object open at this point.
};

// A tool's parameters are one JSON Schema for an object (its properties are the
// arguments); anything else cannot be rendered as a parameter list. Its size is bounded
// (members per object, values, nesting) before it is parsed whole.
absl::Status CheckToolSchema(const std::string& schema, const std::string& field) {
  if (schema.empty()) return absl::OkStatus();  // No parameters.
  RETURN_IF_ERROR(CheckUtf8(schema, field));
  SchemaReader reader(nullptr);
  if (!nlohmann::json::sax_parse(schema, &reader) || !reader.error().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " ", reader.error().empty() ? "is not valid JSON" : reader.error()));
  }
  // The reader has seen valid JSON with an object at the top.
  const nlohmann::json parsed = nlohmann::json::parse(schema, nullptr, /*allow_exceptions=*/false);
  const auto type = parsed.find("type");
  if (type != parsed.end() && *type != "object") {
    return absl::InvalidArgumentError(field + " must describe an object (\"type\": \"object\")");
  }
  // Harmony renders a schema without a type as `any`: its properties would never reach the
  // model (OpenAI's API refuses such a schema too).
  if (type == parsed.end() && parsed.contains("properties")) {
    return absl::InvalidArgumentError(
        field + " has \"properties\" but no \"type\": \"object\"; without it the model sees no parameters");
  }
  return absl::OkStatus();
}

// The names a history message may give a tool: "functions.<tool name>" (the only namespace
// Warden declares, see CheckToolName). Anything else could make the header say something
// else: a TOOL message's name is the author slot of its header (a name "system" would be read
// as the system role), an ASSISTANT message's recipient follows " to=" in its header.
absl::Status CheckFunctionName(const std::string& name, const std::string& field) {
  const std::string kNamespace = "functions.";
  if (name.size() > kNamespace.size() && name.compare(0, kNamespace.size(), kNamespace) == 0 &&
      CheckToolName(name.substr(kNamespace.size()), field).ok()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be \"functions.<tool name>\", a tool name being 1 to 64 characters of a-z, A-Z, 0-9, '_' or '-'"));
}

// An assistant message's content type, rendered in its header: "json" (Warden renders it as
// the model writes it, <|constrain|>json; the token is Warden's, never the app's text) or
// "code". Nothing else: header text the app chose could add header fields.
absl::Status CheckContentType(const std::string& content_type, const std::string& field) {
  if (content_type.empty() || content_type == "json" || content_type == "code") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be empty, \"json\" or \"code\"",
                   absl::StrContains(content_type, "<|") ? " (special-token text is not allowed; for "
                                                           "<|constrain|>json send \"json\")"
                                                         : ""));
}

}  // namespace

absl::Status ValidateGenerateRequest(const v1::GenerateRequest& request, const v1::Limits& limits) {
  RETURN_IF_ERROR(CheckSize(request.ByteSizeLong(), limits));
  if (request.messages_size() == 0) return absl::InvalidArgumentError("messages: at least one message is required");
  for (int i = 0; i < request.messages_size(); ++i) {
    const auto& message = request.messages(i);
    const std::string field = absl::StrCat("messages[", i, "]");
    if (message.role() == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(message.role())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".role must be set"));
    }
    if (message.role() == v1::SYSTEM) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".role SYSTEM is rendered by Warden; use instructions or a DEVELOPER message"));
    }
    if (!v1::Channel_IsValid(message.channel())) return absl::InvalidArgumentError(absl::StrCat(field, ".channel is invalid"));
    RETURN_IF_ERROR(CheckUtf8(message.content(), field + ".content"));
    RETURN_IF_ERROR(CheckUtf8(message.recipient(), field + ".recipient"));
    RETURN_IF_ERROR(CheckUtf8(message.name(), field + ".name"));
    RETURN_IF_ERROR(CheckUtf8(message.content_type(), field + ".content_type"));
    // The header fields the renderer writes for this role (the others ignore them).
    if (message.role() == v1::TOOL && !message.name().empty()) {
      RETURN_IF_ERROR(CheckFunctionName(message.name(), field + ".name"));
    }
    if (message.role() == v1::ASSISTANT) {
      if (!message.recipient().empty()) RETURN_IF_ERROR(CheckFunctionName(message.recipient(), field + ".recipient"));
      RETURN_IF_ERROR(CheckContentType(message.content_type(), field + ".content_type"));
    }
  }
  RETURN_IF_ERROR(CheckUtf8(request.instructions(), "instructions"));
  if (request.tools_size() > kMaxTools) {
    return absl::InvalidArgumentError(absl::StrCat("tools holds ", request.tools_size(), " tools; at most ", kMaxTools));
  }
  // The model calls a tool by its name alone: a second tool of the same name would make
  // its calls ambiguous (which schema, which description the call answers).
  std::map<std::string, int> tool_index_by_name;
  for (int i = 0; i < request.tools_size(); ++i) {
    const auto& tool = request.tools(i);
    const std::string field = absl::StrCat("tools[", i, "]");
    RETURN_IF_ERROR(CheckToolName(tool.name(), field + ".name"));
    const auto [first, inserted] = tool_index_by_name.emplace(tool.name(), i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".name \"", tool.name(), "\" is also tools[", first->second, "].name; names must be unique"));
    }
    RETURN_IF_ERROR(CheckUtf8(tool.description(), field + ".description"));
    RETURN_IF_ERROR(CheckToolSchema(tool.parameters_json_schema(), field + ".parameters_json_schema"));
  }
  const auto& sampling = request.sampling();
  if (sampling.has_temperature() && !(sampling.temperature() >= 0.0f && sampling.temperature() <= 10.0f)) {
    return absl::InvalidArgumentError("sampling.temperature must be in [0, 10]");
  }
  if (sampling.has_top_p() && !(sampling.top_p() > 0.0f && sampling.top_p() <= 1.0f)) {
    return absl::InvalidArgumentError("sampling.top_p must be in (0, 1]");
  }
  if (sampling.stop_size() > kMaxStopSequences) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling.stop holds ", sampling.stop_size(), " sequences; at most ", kMaxStopSequences));
  }
  for (int i = 0; i < sampling.stop_size(); ++i) {
    if (sampling.stop(i).empty()) return absl::InvalidArgumentError(absl::StrCat("sampling.stop[", i, "] is empty"));
    if (sampling.stop(i).size() > kMaxStopSequenceBytes) {
      return absl::InvalidArgumentError(absl::StrCat("sampling.stop[", i, "] has ", sampling.stop(i).size(),
                                                     " bytes; at most ", kMaxStopSequenceBytes));
    }
    RETURN_IF_ERROR(CheckUtf8(sampling.stop(i), absl::StrCat("sampling.stop[", i, "]")));
  }
  if (!v1::ReasoningEffort_IsValid(request.reasoning_effort())) {
    return absl::InvalidArgumentError("reasoning_effort is invalid");
  }
  if (request.metadata_size() > kMaxMetadataEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata holds ", request.metadata_size(), " entries; at most ", kMaxMetadataEntries));
  }
  for (const auto& [key, value] : request.metadata()) {
    RETURN_IF_ERROR(CheckUtf8(key, "metadata key"));
    RETURN_IF_ERROR(CheckUtf8(value, "metadata value"));
    if (key.size() > kMaxMetadataKeyBytes || value.size() > kMaxMetadataValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat("metadata entries are tags: keys of at most ", kMaxMetadataKeyBytes,
                                                     " bytes, values of at most ", kMaxMetadataValueBytes));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateModerateRequest(const v1::ModerateRequest& request, const v1::Limits& limits) {
  RETURN_IF_ERROR(CheckSize(request.ByteSizeLong(), limits));
  if (request.texts_size() == 0) return absl::InvalidArgumentError("texts: at least one text is required");
  if (static_cast<uint32_t>(request.texts_size()) > limits.max_moderate_batch()) {
    return absl::ResourceExhaustedError(absl::StrCat("limit max_moderate_batch (", limits.max_moderate_batch(),
                                                     ") exceeded: ", request.texts_size(), " texts"));
  }
  for (int i = 0; i < request.texts_size(); ++i) {
    RETURN_IF_ERROR(CheckUtf8(request.texts(i), absl::StrCat("texts[", i, "]")));
  }
  RETURN_IF_ERROR(CheckUtf8(request.policy(), "policy"));
  if (!v1::Direction_IsValid(request.direction())) return absl::InvalidArgumentError("direction is invalid");
  return absl::OkStatus();
}

std::string ToolSchemaText(const std::string& schema) {
  std::string text;
  if (schema.empty()) return text;
  SchemaReader reader(&text);
  nlohmann::json::sax_parse(schema, &reader);
  return text;
}

}  // namespace warden::gateway
