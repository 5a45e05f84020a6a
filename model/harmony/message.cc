#include "model/harmony/message.h"

#include <utility>

namespace warden::model::harmony {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kDeveloper:
      return "developer";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
  }
  return "user";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : {Role::kSystem, Role::kDeveloper, Role::kUser, Role::kAssistant, Role::kTool}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

std::string_view ReasoningEffortName(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::kLow:
      return "low";
    case ReasoningEffort::kMedium:
      return "medium";
    case ReasoningEffort::kHigh:
      return "high";
  }
  return "medium";
}

SystemContent SystemContent::Defaults() {
  SystemContent s;
  s.model_identity = "You are ChatGPT, a large language model trained by OpenAI.";
  s.knowledge_cutoff = "2024-06";
  s.reasoning_effort = ReasoningEffort::kMedium;
  s.channel_config = ChannelConfig{{"analysis", "commentary", "final"}, true};
  return s;
}

Message Message::Text(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.emplace_back(std::move(text));
  return m;
}

Message Message::System(SystemContent content) {
  Message m;
  m.role = Role::kSystem;
  m.content.emplace_back(std::move(content));
  return m;
}

Message Message::Developer(DeveloperContent content) {
  Message m;
  m.role = Role::kDeveloper;
  m.content.emplace_back(std::move(content));
  return m;
}

}  // namespace warden::model::harmony
