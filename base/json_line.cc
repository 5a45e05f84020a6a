#include "base/json_line.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "base/utf8.h"

namespace warden {
namespace {

// The code unit of the escape "\uXXXX" at line[i], or -1 when there is none.
int EscapedCodeUnit(const std::string& line, size_t i) {
  if (i + 6 > line.size() || line[i] != '\\' || line[i + 1] != 'u') return -1;
  int unit = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const char c = line[k];
    const int digit = c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// `line` with every escaped lone surrogate ("\ud800" not followed by a low surrogate, or a
// low one alone) replaced by "\ufffd". JSON allows them (Python's json.dumps writes them
// for such strings) but they are not text; tiktoken encodes them as U+FFFD, and the
// parser refused the whole line.
std::string ReplaceLoneSurrogateEscapes(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') in_string = !in_string;
    if (!in_string || c != '\\' || i + 1 >= line.size()) {
      out += c;
      continue;
    }
    const int unit = EscapedCodeUnit(line, i);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int next = EscapedCodeUnit(line, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a pair: one character
        out.append(line, i, 12);
        i += 11;
      } else {
        out += "\\ufffd";
        i += 5;
      }
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      out += "\\ufffd";
      i += 5;
    } else {  // any other escape, whole, so its second character is not read as a quote
      out.append(line, i, 2);
      ++i;
    }
  }
  return out;
}

// `line` with every byte that does not start or continue valid UTF-8 replaced by U+FFFD.
std::string ReplaceInvalidUtf8(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  std::string_view rest(line);
  while (!rest.empty()) {
    const size_t valid = FirstInvalidUtf8(rest);
    out.append(rest.data(), valid);
    if (valid == rest.size()) break;
    out.append("\xEF\xBF\xBD");
    rest.remove_prefix(valid + 1);
  }
  return out;
}

}  // namespace

nlohmann::json ParseJsonLine(const std::string& line, std::string* error) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) return json;
  std::string repaired = IsValidUtf8(line) ? line : ReplaceInvalidUtf8(line);
  if (repaired.find("\\u") != std::string::npos) repaired = ReplaceLoneSurrogateEscapes(repaired);
  try {
    return nlohmann::json::parse(repaired);
  } catch (const nlohmann::json::exception& e) {
    *error = e.what();
    if (const size_t cut = error->find("; last read:"); cut != std::string::npos) error->resize(cut);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

}  // namespace warden
