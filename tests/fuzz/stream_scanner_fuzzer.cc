// Differential fuzzer: StreamScanner over chunks against CompiledPolicies::Scan of the
// whole text, with the default policy sets.
//
// Input: byte 0 = bit 0 direction (INPUT/OUTPUT), bits 1-4 a mask over the default sets
// in sorted order (0 = all); byte 1 = the number k (mod 8) of chunk lengths that follow;
// then k bytes, each a chunk length (mod 65, so empty chunks occur), used cyclically to cut
// the text (k = 0: one chunk); the rest is the text.
//
// The stream promises the unary result for matches no longer than their rule's bound:
// when the results differ, the input is only reported if every finding (of either side)
// is within its set's hold-back, measured on the normalised views the rules read.
// Invalid UTF-8 must make both fail.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policies/compiled_policies.h"
#include "policies/normalizer.h"
#include "policies/stream_scanner.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/shared_data.h"

namespace warden::fuzz {
namespace {

using policies::ScanResult;

struct Input {
  v1::Direction direction = v1::INPUT;
  std::vector<std::string> set_ids;
  std::vector<std::string_view> chunks;
  std::string_view text;
};

Input ParseInput(const uint8_t* data, size_t size) {
  Input input;
  input.direction = (data[0] & 1) != 0 ? v1::OUTPUT : v1::INPUT;
  const std::vector<std::string>& all = DefaultPolicySetIds();
  const unsigned mask = (data[0] >> 1) & 0xF;
  for (size_t i = 0; i < all.size(); ++i) {
    if (mask == 0 || (mask & (1u << i)) != 0) input.set_ids.push_back(all[i]);
  }
  if (input.set_ids.empty()) input.set_ids = all;
  const size_t k = size > 1 ? data[1] % 8 : 0;
  size_t pos = std::min(size, size_t{2});
  std::vector<size_t> lengths;
  for (size_t i = 0; i < k && pos < size; ++i) lengths.push_back(data[pos++] % 65);
  input.text = std::string_view(reinterpret_cast<const char*>(data + pos), size - pos);
  size_t total = 0;
  for (size_t length : lengths) total += length;
  if (total == 0) {  // No lengths, or only empty chunks: one chunk.
    input.chunks.push_back(input.text);
    return input;
  }
  for (size_t offset = 0, i = 0; offset < input.text.size(); ++i) {
    const size_t length = std::min(lengths[i % lengths.size()], input.text.size() - offset);
    input.chunks.push_back(input.text.substr(offset, length));
    offset += length;
  }
  return input;
}

struct Streamed {
  bool ok = true;
  std::string released;
  std::vector<v1::RuleMatch> matches;
  v1::Action action = v1::ALLOW;
  std::string block_message;
};

Streamed Stream(const Input& input) {
  Streamed out;
  absl::StatusOr<std::unique_ptr<policies::StreamScanner>> scanner =
      policies::StreamScanner::Create(DefaultPolicies(), input.set_ids, input.direction);
  FUZZ_CHECK(scanner.ok(), "StreamScanner::Create failed for the default sets");
  auto take = [&out](const absl::StatusOr<policies::StreamUpdate>& update) {
    if (!update.ok()) {
      out.ok = false;
      return;
    }
    out.released += update->released;
    out.matches.insert(out.matches.end(), update->matches.begin(), update->matches.end());
    out.action = update->action;
    out.block_message = update->block_message;
  };
  for (std::string_view chunk : input.chunks) {
    take((*scanner)->Push(chunk));
    if (!out.ok) return out;
  }
  take((*scanner)->Finish());
  return out;
}

std::string Describe(const v1::RuleMatch& m) {
  return m.policy_set() + "/" + m.rule_id() + "/" + m.entity_type() + "[" +
         std::to_string(m.span().begin()) + "," + std::to_string(m.span().end()) + ")";
}

std::vector<std::string> Sorted(const std::vector<v1::RuleMatch>& matches) {
  std::vector<std::string> out;
  for (const v1::RuleMatch& m : matches) out.push_back(Describe(m));
  std::sort(out.begin(), out.end());
  return out;
}

// The longest normalised form of the matched text over the views rules read.
size_t ViewBytes(std::string_view text, const v1::RuleMatch& m) {
  const size_t begin = std::min<size_t>(m.span().begin(), text.size());
  const size_t end = std::clamp<size_t>(m.span().end(), begin, text.size());
  const std::string_view matched = text.substr(begin, end - begin);
  size_t longest = matched.size();
  for (bool case_fold : {false, true}) {
    policies::NormalizeOptions options;
    options.case_fold = case_fold;
    options.remove_diacritics = case_fold;
    absl::StatusOr<policies::NormalizedText> view = policies::Normalize(matched, options);
    if (view.ok()) longest = std::max(longest, view->text.size());
  }
  return longest;
}

// True when every finding is within the hold-back of its set (the stream's promise).
bool WithinBounds(const Input& input, const std::vector<v1::RuleMatch>& matches) {
  for (const v1::RuleMatch& m : matches) {
    absl::StatusOr<size_t> bound =
        DefaultPolicies()->HoldBackBytes({m.policy_set()}, input.direction);
    if (!bound.ok() || ViewBytes(input.text, m) > *bound) return false;
  }
  return true;
}

void Compare(const Input& input, const ScanResult& unary, const Streamed& streamed) {
  const bool same_matches = Sorted(unary.matches) == Sorted(streamed.matches);
  const bool same_action = unary.action == streamed.action;
  const bool same_text = unary.action == v1::BLOCK
                             ? streamed.block_message == unary.block_message
                             : streamed.released == unary.redacted_text;
  if (same_matches && same_action && same_text) return;
  if (!WithinBounds(input, unary.matches) || !WithinBounds(input, streamed.matches)) return;
  for (const std::string& m : Sorted(unary.matches)) std::fprintf(stderr, "unary:  %s\n", m.c_str());
  for (const std::string& m : Sorted(streamed.matches)) {
    std::fprintf(stderr, "stream: %s\n", m.c_str());
  }
  FUZZ_CHECK(same_matches, "streamed findings != unary findings");
  FUZZ_CHECK(same_action, "streamed action != unary action");
  FUZZ_CHECK(same_text, "released text (or block message) != unary result");
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  if (size == 0) return 0;
  const Input input = ParseInput(data, size);
  absl::StatusOr<ScanResult> unary =
      DefaultPolicies()->Scan(input.set_ids, input.direction, input.text);
  const Streamed streamed = Stream(input);
  FUZZ_CHECK(unary.ok() == streamed.ok, "stream and unary scan disagree on failing");
  if (!unary.ok()) {
    FUZZ_CHECK(unary.status().code() == absl::StatusCode::kInvalidArgument,
               "unary scan failed with a code other than INVALID_ARGUMENT");
    return 0;
  }
  Compare(input, *unary, streamed);
  return 0;
}
