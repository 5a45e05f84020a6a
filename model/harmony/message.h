// Plain data types for harmony conversations (shared/spec/harmony-format.md): roles,
// system/developer content, tool namespaces and messages. Value types with no behaviour
// beyond the role-name conversions; thread-compatible.
#ifndef WARDEN_MODEL_HARMONY_MESSAGE_H_
#define WARDEN_MODEL_HARMONY_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace warden::model::harmony {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };

// "system", "developer", "user", "assistant", "tool".
std::string_view RoleName(Role role);
// Inverse of RoleName; nullopt for anything else.
std::optional<Role> RoleFromName(std::string_view name);

enum class ReasoningEffort { kLow, kMedium, kHigh };
std::string_view ReasoningEffortName(ReasoningEffort effort);  // "low" | "medium" | "high"

// One function of a tool namespace.
struct ToolDescription {
  std::string name;
  std::string description;  // may be empty (then no comment line is rendered)
  // JSON Schema of the arguments as JSON text, or nullopt for `() => any`. Kept as text so
  // that object member order survives; the renderer parses it order-preserving.
  std::optional<std::string> parameters_json;
};

struct ToolNamespace {
  std::string name;                        // e.g. "functions", "browser", "python"
  std::optional<std::string> description;  // namespace-level text
  std::vector<ToolDescription> tools;      // may be empty (description-only namespace)
};

struct ChannelConfig {
  std::vector<std::string> valid_channels;  // e.g. analysis, commentary, final
  bool channel_required = true;
};

// Content of the system message; every field is optional (absent = not rendered).
struct SystemContent {
  std::optional<std::string> model_identity;
  std::optional<std::string> knowledge_cutoff;
  std::optional<std::string> current_date;
  std::optional<ReasoningEffort> reasoning_effort;
  std::optional<ChannelConfig> channel_config;
  std::vector<ToolNamespace> tools;  // built-in tools (browser, python); empty = none

  // The reference library's defaults: identity "You are ChatGPT, ...", cutoff 2024-06,
  // reasoning medium, channels analysis/commentary/final required.
  static SystemContent Defaults();
};

struct DeveloperContent {
  std::optional<std::string> instructions;  // present (even empty) renders "# Instructions"
  std::vector<ToolNamespace> tools;         // function tools; empty = none
};

// One content part: plain text, or the structured content of a system/developer message.
using Content = std::variant<std::string, SystemContent, DeveloperContent>;

struct Message {
  Role role = Role::kUser;
  std::optional<std::string> name;          // author name; required for Role::kTool
  std::optional<std::string> recipient;     // e.g. "functions.get_weather"
  std::optional<std::string> channel;       // e.g. "analysis", "final"
  std::optional<std::string> content_type;  // e.g. "<|constrain|>json", "code"
  std::vector<Content> content;             // usually exactly one part

  static Message Text(Role role, std::string text);
  static Message System(SystemContent content);
  static Message Developer(DeveloperContent content);
};

}  // namespace warden::model::harmony

#endif  // WARDEN_MODEL_HARMONY_MESSAGE_H_
