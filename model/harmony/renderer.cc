#include "model/harmony/renderer.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/harmony/tools_section.h"

namespace warden::model::harmony {
namespace {

constexpr std::string_view kConstrainMarker = "<|constrain|>";

bool DeclaresFunctionTools(const Message& message) {
  for (const Content& c : message.content) {
    const auto* dev = std::get_if<DeveloperContent>(&c);
    if (dev == nullptr) continue;
    for (const ToolNamespace& ns : dev->tools) {
      if (ns.name == "functions" && !ns.tools.empty()) return true;
    }
  }
  return false;
}

bool HasFunctionTools(absl::Span<const Message> messages) {
  for (const Message& m : messages) {
    if (DeclaresFunctionTools(m)) return true;
  }
  return false;
}

bool IsOnChannel(const Message& m, std::string_view channel) {
  return m.channel.has_value() && *m.channel == channel;
}

// §10.2: which messages to render.
std::vector<const Message*> MessagesToRender(absl::Span<const Message> messages,
                                             bool auto_drop_analysis) {
  bool last_assistant_is_final = false;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == Role::kAssistant) {
      last_assistant_is_final = IsOnChannel(*it, "final");
      break;
    }
  }
  size_t first_final = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (IsOnChannel(messages[i], "final")) {
      first_final = i;
      break;
    }
  }
  const bool drop = auto_drop_analysis && last_assistant_is_final;
  std::vector<const Message*> kept;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (drop && i < first_final && IsOnChannel(messages[i], "analysis")) continue;
    kept.push_back(&messages[i]);
  }
  return kept;
}

}  // namespace

absl::StatusOr<std::string> SystemContentText(const SystemContent& system,
                                              bool conversation_has_function_tools) {
  std::vector<std::string> sections;
  std::vector<std::string> header;
  if (system.model_identity) header.push_back(*system.model_identity);
  if (system.knowledge_cutoff) header.push_back("Knowledge cutoff: " + *system.knowledge_cutoff);
  if (system.current_date) header.push_back("Current date: " + *system.current_date);
  if (!header.empty()) sections.push_back(absl::StrJoin(header, "\n"));
  if (system.reasoning_effort) {
    sections.push_back(
        absl::StrCat("Reasoning: ", std::string(ReasoningEffortName(*system.reasoning_effort))));
  }
  if (!system.tools.empty()) {
    absl::StatusOr<std::string> tools = RenderToolsSection(system.tools);
    if (!tools.ok()) return tools.status();
    sections.push_back(*std::move(tools));
  }
  if (system.channel_config && !system.channel_config->valid_channels.empty()) {
    std::string line = absl::StrCat(
        "# Valid channels: ", absl::StrJoin(system.channel_config->valid_channels, ", "), ".");
    if (system.channel_config->channel_required) {
      line += " Channel must be included for every message.";
    }
    if (conversation_has_function_tools) {
      line += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    }
    sections.push_back(std::move(line));
  }
  return absl::StrJoin(sections, "\n\n");
}

absl::StatusOr<std::string> DeveloperContentText(const DeveloperContent& developer) {
  std::vector<std::string> sections;
  if (developer.instructions) {
    sections.push_back("# Instructions");
    sections.push_back(*developer.instructions);
  }
  if (!developer.tools.empty()) {
    absl::StatusOr<std::string> tools = RenderToolsSection(developer.tools);
    if (!tools.ok()) return tools.status();
    sections.push_back(*std::move(tools));
  }
  return absl::StrJoin(sections, "\n\n");
}

absl::StatusOr<std::unique_ptr<Renderer>> Renderer::Create(const Tokenizer* tokenizer) {
  if (tokenizer == nullptr) return absl::InvalidArgumentError("renderer: null tokenizer");
  FormattingTokens t;
  const std::pair<uint32_t*, const char*> wanted[] = {
      {&t.start, "<|start|>"},        {&t.message, "<|message|>"}, {&t.end, "<|end|>"},
      {&t.call, "<|call|>"},          {&t.return_, "<|return|>"},  {&t.channel, "<|channel|>"},
      {&t.constrain, "<|constrain|>"}};
  for (const auto& [id, text] : wanted) {
    absl::StatusOr<uint32_t> found = tokenizer->SpecialTokenId(text);
    if (!found.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("renderer: tokenizer has no harmony token ", text));
    }
    *id = *found;
  }
  return std::unique_ptr<Renderer>(new Renderer(tokenizer, t));
}

absl::StatusOr<std::vector<uint32_t>> Renderer::Render(absl::Span<const Message> messages,
                                                       const RenderOptions& options) const {
  const bool has_functions = HasFunctionTools(messages);
  std::vector<uint32_t> out;
  for (const Message* m : MessagesToRender(messages, options.auto_drop_analysis)) {
    const absl::Status status = RenderMessage(*m, has_functions, &out, options);
    if (!status.ok()) return status;
  }
  if (options.mode == RenderMode::kCompletion) {
    out.push_back(tokens_.start);
    tokenizer_->AppendOrdinary(RoleName(options.next_role), &out);
  } else if (options.mode == RenderMode::kTraining && !messages.empty() && !out.empty()) {
    const Message& last = messages.back();
    if (last.role == Role::kAssistant && IsOnChannel(last, "final")) out.back() = tokens_.return_;
  }
  return out;
}

absl::Status Renderer::RenderMessage(const Message& m, bool conversation_has_function_tools,
                                     std::vector<uint32_t>* out, const RenderOptions& options) const {
  out->push_back(tokens_.start);
  if (m.role == Role::kTool) {
    if (!m.name.has_value()) {
      return absl::InvalidArgumentError("harmony: a tool message needs an author name");
    }
    tokenizer_->AppendOrdinary(*m.name, out);
  } else {
    tokenizer_->AppendOrdinary(RoleName(m.role), out);
    if (m.name.has_value()) tokenizer_->AppendOrdinary(":" + *m.name, out);
  }
  if (m.recipient.has_value() && *m.recipient != "all") {
    tokenizer_->AppendOrdinary(" to=" + *m.recipient, out);
  }
  if (m.channel.has_value()) {
    out->push_back(tokens_.channel);
    tokenizer_->AppendOrdinary(*m.channel, out);
  }
  if (m.content_type.has_value()) {
    if (options.constrain_json && *m.content_type == "json") {
      tokenizer_->AppendOrdinary(" ", out);
      out->push_back(tokens_.constrain);
      tokenizer_->AppendOrdinary("json", out);
    } else if (std::string_view(*m.content_type).substr(0, kConstrainMarker.size()) == kConstrainMarker) {
      tokenizer_->AppendOrdinary(" ", out);
      out->push_back(tokens_.constrain);
      tokenizer_->AppendOrdinary(std::string_view(*m.content_type).substr(kConstrainMarker.size()),
                                 out);
    } else {
      tokenizer_->AppendOrdinary(" " + *m.content_type, out);
    }
  }
  out->push_back(tokens_.message);
  for (const Content& c : m.content) {
    const absl::Status status = RenderContent(m, c, conversation_has_function_tools, out);
    if (!status.ok()) return status;
  }
  // Quirk kept from the reference: any recipient (even "all") makes an assistant message
  // a tool call.
  out->push_back(m.role == Role::kAssistant && m.recipient.has_value() ? tokens_.call
                                                                       : tokens_.end);
  return absl::OkStatus();
}

absl::Status Renderer::RenderContent(const Message& m, const Content& content,
                                     bool conversation_has_function_tools,
                                     std::vector<uint32_t>* out) const {
  if (const auto* text = std::get_if<std::string>(&content)) {
    tokenizer_->AppendOrdinary(*text, out);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> text;
  if (const auto* sys = std::get_if<SystemContent>(&content)) {
    if (m.role != Role::kSystem) {
      return absl::InvalidArgumentError("harmony: system content in a non-system message");
    }
    text = SystemContentText(*sys, conversation_has_function_tools);
  } else {
    if (m.role != Role::kDeveloper) {
      return absl::InvalidArgumentError("harmony: developer content in a non-developer message");
    }
    text = DeveloperContentText(std::get<DeveloperContent>(content));
  }
  if (!text.ok()) return text.status();
  tokenizer_->AppendOrdinary(*text, out);
  return absl::OkStatus();
}

}  // namespace warden::model::harmony
