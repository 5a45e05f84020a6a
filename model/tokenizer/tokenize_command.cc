#include "model/tokenizer/tokenize_command.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace warden::model {
namespace {

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

void AppendIdsLine(const std::vector<uint32_t>& ids, std::string* out) {
  out->append("{\"ids\": [");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out->append(", ");
    absl::StrAppend(out, ids[i]);
  }
  out->append("]}\n");
}

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

// The line as JSON; a line that fails only for escaped lone surrogates parses with U+FFFD
// in their place. On failure `*error` says why (the bare "expected an object" hid it).
nlohmann::json ParseLine(const std::string& line, std::string* error) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) return json;
  const std::string repaired = line.find("\\u") == std::string::npos ? line : ReplaceLoneSurrogateEscapes(line);
  try {
    return nlohmann::json::parse(repaired);
  } catch (const nlohmann::json::exception& e) {
    *error = e.what();
    // Without the token nlohmann echoes, which may be megabytes or invalid UTF-8.
    if (const size_t cut = error->find("; last read:"); cut != std::string::npos) error->resize(cut);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

}  // namespace

absl::Status TokenizeJsonLines(const Tokenizer& tokenizer, std::istream& in, std::ostream& out) {
  std::string line;
  std::string output;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (IsBlank(line)) continue;
    std::string parse_error;
    const auto json = ParseLine(line, &parse_error);
    const auto text = json.is_object() ? json.find("text") : json.end();
    if (!json.is_object() || text == json.end() || !text->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("tokenize: input line ", line_no,
                                                     ": expected a JSON object with a string \"text\"",
                                                     parse_error.empty() ? "" : " (", parse_error,
                                                     parse_error.empty() ? "" : ")"));
    }
    output.clear();
    AppendIdsLine(tokenizer.EncodeOrdinary(text->get_ref<const std::string&>()), &output);
    out << output << std::flush;
    if (!out) {
      return absl::UnavailableError(absl::StrCat("tokenize: write failed at line ", line_no));
    }
  }
  if (in.bad()) return absl::UnavailableError("tokenize: read error on input");
  return absl::OkStatus();
}

}  // namespace warden::model
