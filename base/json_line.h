// One line of a JSON-lines input ({"text": ...} per line) as the tools read it.
#ifndef WARDEN_BASE_JSON_LINE_H_
#define WARDEN_BASE_JSON_LINE_H_

#include <string>

#include "nlohmann/json.hpp"

namespace warden {

// Parses `line` as JSON, repairing text that is not Unicode instead of refusing the line:
// escaped lone surrogates ("\ud800", which Python's json.dumps writes for such strings) and
// raw bytes that are not UTF-8 become U+FFFD, as tiktoken and most tools do. A line that
// still does not parse gives a discarded value and `*error` says why (the parser's reason,
// without the input it echoes, which may be megabytes or invalid UTF-8). Thread-safe.
nlohmann::json ParseJsonLine(const std::string& line, std::string* error);

// Whether a JSON-lines input line holds nothing but spaces, tabs or a CR (a CRLF file's
// empty line): every JSON-lines reader skips it, giving no output line.
inline bool IsBlankLine(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace warden

#endif  // WARDEN_BASE_JSON_LINE_H_
