#include "tests/harmony/fixture_messages.h"

#include <optional>
#include <string>
#include <vector>

namespace warden::testing {

using ::warden::model::harmony::ChannelConfig;
using ::warden::model::harmony::DeveloperContent;
using ::warden::model::harmony::Message;
using ::warden::model::harmony::ReasoningEffort;
using ::warden::model::harmony::RenderMode;
using ::warden::model::harmony::RenderOptions;
using ::warden::model::harmony::Role;
using ::warden::model::harmony::RoleFromName;
using ::warden::model::harmony::SystemContent;
using ::warden::model::harmony::ToolDescription;
using ::warden::model::harmony::ToolNamespace;
using Json = nlohmann::ordered_json;

namespace {

std::optional<std::string> OptString(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::vector<ToolNamespace> NamespacesFromJson(const Json& j) {
  std::vector<ToolNamespace> out;
  if (j.is_null()) return out;
  for (const Json& ns : j) {
    ToolNamespace n{ns["name"].get<std::string>(), OptString(ns, "description"), {}};
    for (const Json& t : ns["tools"]) {
      ToolDescription tool{t["name"].get<std::string>(), t["description"].get<std::string>(),
                           std::nullopt};
      if (t.contains("parameters") && !t["parameters"].is_null()) {
        tool.parameters_json = t["parameters"].dump();
      }
      n.tools.push_back(std::move(tool));
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

Message MessageFromJson(const Json& j) {
  Message m;
  m.role = *RoleFromName(j["role"].get<std::string>());
  m.name = OptString(j, "name");
  m.recipient = OptString(j, "recipient");
  m.channel = OptString(j, "channel");
  m.content_type = OptString(j, "content_type");
  if (j.contains("system")) {
    const Json& s = j["system"];
    SystemContent sys;
    sys.model_identity = OptString(s, "model_identity");
    sys.knowledge_cutoff = OptString(s, "knowledge_cutoff");
    sys.current_date = OptString(s, "current_date");
    if (auto effort = OptString(s, "reasoning_effort")) {
      sys.reasoning_effort = *effort == "low"      ? ReasoningEffort::kLow
                             : *effort == "medium" ? ReasoningEffort::kMedium
                                                   : ReasoningEffort::kHigh;
    }
    if (!s["valid_channels"].is_null()) {
      sys.channel_config = ChannelConfig{s["valid_channels"].get<std::vector<std::string>>(),
                                         s["channel_required"].get<bool>()};
    }
    sys.tools = NamespacesFromJson(s["tools"]);
    m.content.emplace_back(std::move(sys));
  } else if (j.contains("developer")) {
    const Json& d = j["developer"];
    m.content.emplace_back(
        DeveloperContent{OptString(d, "instructions"), NamespacesFromJson(d["tools"])});
  } else if (j["content"].is_array()) {
    for (const Json& part : j["content"]) m.content.emplace_back(part.get<std::string>());
  } else {
    m.content.emplace_back(j["content"].get<std::string>());
  }
  return m;
}

RenderOptions OptionsFromJson(const Json& c) {
  RenderOptions options;
  const std::string mode = c["mode"].get<std::string>();
  options.mode = mode == "completion" ? RenderMode::kCompletion
                 : mode == "training" ? RenderMode::kTraining
                                      : RenderMode::kConversation;
  if (options.mode == RenderMode::kCompletion) {
    options.next_role = *RoleFromName(c["next_role"].get<std::string>());
  }
  options.auto_drop_analysis = c["auto_drop_analysis"].get<bool>();
  options.constrain_json = false;  // The cases are the reference's renderings.
  return options;
}

}  // namespace warden::testing
