#include "tests/tokenizer/fixture_util.h"

#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace warden::testing {

const model::Tokenizer* SharedTokenizer() {
  static const model::Tokenizer* tokenizer = []() -> const model::Tokenizer* {
    auto loaded = model::Tokenizer::LoadTiktoken(model::Tokenizer::DefaultVocabPath());
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status();
      return nullptr;
    }
    return loaded->release();
  }();
  return tokenizer;
}

std::vector<nlohmann::ordered_json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::ordered_json> out;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return out;
  }
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto json = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      ADD_FAILURE() << path << ":" << line_no << ": malformed JSON";
      continue;
    }
    out.push_back(std::move(json));
  }
  return out;
}

std::vector<uint32_t> IdsFromJson(const nlohmann::ordered_json& array) {
  std::vector<uint32_t> ids;
  for (const auto& v : array) ids.push_back(v.get<uint32_t>());
  return ids;
}

std::string DescribeDifference(const std::vector<uint32_t>& expected,
                               const std::vector<uint32_t>& actual) {
  for (size_t i = 0; i < expected.size() && i < actual.size(); ++i) {
    if (expected[i] != actual[i]) {
      return absl::StrCat("first difference at index ", i, " (expected ", expected[i], ", got ",
                          actual[i], ")");
    }
  }
  return absl::StrCat("sizes differ: expected ", expected.size(), ", got ", actual.size());
}

}  // namespace warden::testing
