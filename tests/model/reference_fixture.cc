#include "tests/model/reference_fixture.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace warden::model::testing {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<Reference> LoadReference() {
  auto text = ReadFile(absl::StrCat(kTinyDir, "/reference.json"));
  if (!text.ok()) return text.status();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return absl::DataLossError("reference.json is not JSON");
  Reference ref;
  ref.vocab = j["vocab_size"].get<int>();
  for (size_t s = 0; s < j["sequences"].size(); ++s) {
    ReferenceSequence seq;
    seq.tokens = j["sequences"][s].get<std::vector<int32_t>>();
    seq.top2_margins = j["fp32_top2_margin"][std::to_string(s)].get<std::vector<float>>();
    for (const auto& greedy : j["greedy_fp32"]) {
      if (greedy["prompt_sequence"].get<size_t>() != s) continue;
      seq.greedy.continuation = greedy["continuation"].get<std::vector<int32_t>>();
      seq.greedy.margins = greedy["top2_margins"].get<std::vector<float>>();
    }
    auto bytes = ReadFile(absl::StrCat(kTinyDir, "/logits_fp32_seq", s, ".bin"));
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() != seq.tokens.size() * ref.vocab * sizeof(float)) {
      return absl::DataLossError(absl::StrCat("logits_fp32_seq", s, ".bin has the wrong size"));
    }
    seq.logits.resize(bytes->size() / sizeof(float));
    std::copy_n(bytes->data(), bytes->size(), reinterpret_cast<char*>(seq.logits.data()));
    ref.sequences.push_back(std::move(seq));
  }
  return ref;
}

LogitsComparison CompareLogits(const std::vector<float>& actual, const ReferenceSequence& reference,
                               int vocab) {
  LogitsComparison result;
  double total = 0;
  for (size_t i = 0; i < reference.logits.size() && i < actual.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(actual[i]) - reference.logits[i]);
    result.max_abs_diff = std::max(result.max_abs_diff, diff);
    total += diff;
  }
  result.mean_abs_diff = total / std::max<size_t>(1, reference.logits.size());
  if (actual.size() != reference.logits.size()) result.max_abs_diff = INFINITY;
  for (size_t p = 0; p < reference.tokens.size() && (p + 1) * vocab <= actual.size(); ++p) {
    if (reference.top2_margins[p] < 0.25f) continue;
    const float* a = &actual[p * vocab];
    const float* r = &reference.logits[p * vocab];
    if (std::max_element(a, a + vocab) - a != std::max_element(r, r + vocab) - r) {
      result.argmax_mismatches.push_back(static_cast<int>(p));
    }
  }
  return result;
}

}  // namespace warden::model::testing
