#include "model/tokenizer/tokenize_command.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json_line.h"
#include "nlohmann/json.hpp"

namespace warden::model {
namespace {

void AppendIdsLine(const std::vector<uint32_t>& ids, std::string* out) {
  out->append("{\"ids\": [");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out->append(", ");
    absl::StrAppend(out, ids[i]);
  }
  out->append("]}\n");
}

}  // namespace

absl::Status TokenizeJsonLines(const Tokenizer& tokenizer, std::istream& in, std::ostream& out) {
  std::string line;
  std::string output;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (IsBlankLine(line)) continue;
    std::string parse_error;
    const auto json = ParseJsonLine(line, &parse_error);
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
