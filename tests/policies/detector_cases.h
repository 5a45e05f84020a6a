// The table of detector cases (tests/data/policies/detector_cases.jsonl), shared by the
// unary table test and the streaming equivalence test.
#ifndef WARDEN_TESTS_POLICIES_DETECTOR_CASES_H_
#define WARDEN_TESTS_POLICIES_DETECTOR_CASES_H_

#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::policies::testing {

struct DetectorCase {
  std::string name;
  std::string text;
  std::vector<std::pair<std::string, std::string>> expect;  // (entity type, original text)
  std::optional<std::string> redacted;
  std::optional<std::string> action;  // Action name, e.g. "REDACT".
};

inline constexpr char kCasesPath[] = "tests/data/policies/detector_cases.jsonl";
inline constexpr char kAllDetectorsPolicy[] = "tests/data/policies/all_detectors.textproto";

// Returns the cases; an empty vector when the file is missing or malformed (the tests
// assert it is not empty).
inline std::vector<DetectorCase> LoadDetectorCases() {
  std::vector<DetectorCase> cases;
  std::ifstream in(kCasesPath);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return {};
    DetectorCase c;
    c.name = j.value("name", "");
    c.text = j.value("text", "");
    for (const auto& e : j["expect"]) c.expect.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    if (j.contains("redacted")) c.redacted = j["redacted"].get<std::string>();
    if (j.contains("action")) c.action = j["action"].get<std::string>();
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace warden::policies::testing

#endif  // WARDEN_TESTS_POLICIES_DETECTOR_CASES_H_
