// Parses the decoded text of a harmony message header (shared/spec/harmony-format.md
// §12.1), e.g. `assistant to=functions.x<|channel|>commentary <|constrain|>json`.
// Stateless functions; thread-safe.
#ifndef WARDEN_MODEL_HARMONY_HEADER_PARSER_H_
#define WARDEN_MODEL_HARMONY_HEADER_PARSER_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/harmony/message.h"

namespace warden::model::harmony {

struct ParsedHeader {
  Role role = Role::kAssistant;
  std::optional<std::string> name;  // set only for tool authors (role kTool)
  std::optional<std::string> recipient;
  std::optional<std::string> channel;
  std::optional<std::string> content_type;  // verbatim, e.g. "<|constrain|>json"
};

// Full header parsing. `expected_role` (the role the prompt already announced) replaces the
// role word. InvalidArgument for an empty channel, an unknown role, a missing role or
// leftover header words.
absl::StatusOr<ParsedHeader> ParseHeader(std::string_view header_text,
                                         std::optional<Role> expected_role);

// Non-strict recovery for a header that was terminated by a stop token instead of
// <|message|> (§12.3): extracts the channel and the role word; every other word becomes the
// content, joined by single spaces. `*content` receives that text.
absl::StatusOr<ParsedHeader> ParseUnterminatedHeader(std::string_view header_text,
                                                     Role expected_role, std::string* content);

}  // namespace warden::model::harmony

#endif  // WARDEN_MODEL_HARMONY_HEADER_PARSER_H_
