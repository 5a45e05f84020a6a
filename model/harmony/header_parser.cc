#include "model/harmony/header_parser.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/tokenizer/char_class.h"

namespace warden::model::harmony {
namespace {

constexpr std::string_view kChannelMarker = "<|channel|>";
constexpr std::string_view kConstrainMarker = "<|constrain|>";

bool IsUnicodeSpaceAt(std::string_view s, size_t pos, size_t* length) {
  const Utf8Char c = DecodeCharAt(s, pos);
  *length = c.length;
  return c.cls == CharClass::kSpace || c.cls == CharClass::kNewline;
}

// Trims Unicode White_Space from both ends (Rust's str::trim).
std::string TrimUnicode(std::string_view s) {
  size_t begin = 0;
  size_t len = 0;
  while (begin < s.size() && IsUnicodeSpaceAt(s, begin, &len)) begin += len;
  size_t end = begin;
  for (size_t pos = begin; pos < s.size(); pos += len) {
    if (!IsUnicodeSpaceAt(s, pos, &len)) end = pos + len;
  }
  return std::string(s.substr(begin, end - begin));
}

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

std::vector<std::string> SplitAsciiWhitespace(std::string_view s) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < s.size()) {
    while (pos < s.size() && IsAsciiSpace(s[pos])) ++pos;
    const size_t start = pos;
    while (pos < s.size() && !IsAsciiSpace(s[pos])) ++pos;
    if (pos > start) parts.emplace_back(s.substr(start, pos - start));
  }
  return parts;
}

// Step 1: removes `<|channel|>VALUE` from *header and returns VALUE (nullopt if absent).
absl::StatusOr<std::optional<std::string>> ExtractChannel(std::string* header) {
  const size_t marker = header->find(kChannelMarker);
  if (marker == std::string::npos) return std::optional<std::string>();
  const size_t value_start = marker + kChannelMarker.size();
  size_t value_end = value_start;
  size_t len = 0;
  while (value_end < header->size() && (*header)[value_end] != '<' &&
         !IsUnicodeSpaceAt(*header, value_end, &len)) {
    value_end += DecodeCharAt(*header, value_end).length;
  }
  if (value_end == value_start) {
    return absl::InvalidArgumentError(
        "harmony header: channel marker present but no channel value found");
  }
  std::string channel = header->substr(value_start, value_end - value_start);
  header->erase(marker, value_end - marker);
  return std::optional<std::string>(std::move(channel));
}

// Steps 1–4: channel, normalisation, split, role. Leaves the non-role words in *parts.
absl::StatusOr<ParsedHeader> ParseChannelAndRole(std::string_view header_text,
                                                 std::optional<Role> expected_role,
                                                 std::vector<std::string>* parts) {
  ParsedHeader header;
  std::string text(header_text);
  absl::StatusOr<std::optional<std::string>> channel = ExtractChannel(&text);
  if (!channel.ok()) return channel.status();
  header.channel = *std::move(channel);
  text = TrimUnicode(text);
  if (text.find(kConstrainMarker) != std::string::npos) {
    std::string spaced;
    for (size_t pos = 0; pos < text.size();) {
      if (text.compare(pos, kConstrainMarker.size(), kConstrainMarker) == 0) {
        absl::StrAppend(&spaced, " ", std::string(kConstrainMarker));
        pos += kConstrainMarker.size();
      } else {
        spaced.push_back(text[pos++]);
      }
    }
    text = TrimUnicode(spaced);
  }
  *parts = SplitAsciiWhitespace(text);
  if (expected_role.has_value()) {
    header.role = *expected_role;
  } else {
    if (parts->empty()) {
      return absl::InvalidArgumentError("harmony header: no role");
    }
    const std::string first = parts->front();
    const std::optional<Role> role = RoleFromName(first);
    if (role.has_value()) {
      header.role = *role;
    } else if (parts->size() > 1 || first.rfind("to=", 0) == 0) {
      parts->erase(parts->begin());
      header.role = Role::kTool;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("harmony header: Unknown role: ", first));
    }
    if (header.role == Role::kTool) header.name = first;
  }
  if (!parts->empty() && parts->front() == RoleName(header.role)) parts->erase(parts->begin());
  return header;
}

std::string StripTo(const std::string& part) {
  return part.rfind("to=", 0) == 0 ? part.substr(3) : part;
}

}  // namespace

absl::StatusOr<ParsedHeader> ParseHeader(std::string_view header_text,
                                         std::optional<Role> expected_role) {
  std::vector<std::string> parts;
  absl::StatusOr<ParsedHeader> header = ParseChannelAndRole(header_text, expected_role, &parts);
  if (!header.ok() || parts.empty()) return header;
  const size_t num_parts = parts.size();
  const std::string last = parts.back();
  parts.pop_back();
  if (last.rfind("to=", 0) == 0) {
    header->recipient = last.substr(3);
  } else if (num_parts == 1) {
    header->recipient = last;  // reference quirk: a lone word is a recipient
  } else {
    header->content_type = last;
    header->recipient = StripTo(parts.back());
    parts.pop_back();
  }
  if (!parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("harmony header: unexpected tokens remaining in message header: ",
                     absl::StrJoin(parts, " ")));
  }
  return header;
}

absl::StatusOr<ParsedHeader> ParseUnterminatedHeader(std::string_view header_text,
                                                     Role expected_role, std::string* content) {
  std::vector<std::string> parts;
  absl::StatusOr<ParsedHeader> header = ParseChannelAndRole(header_text, expected_role, &parts);
  if (header.ok()) *content = absl::StrJoin(parts, " ");
  return header;
}

}  // namespace warden::model::harmony
