// CompiledPolicies: every loaded PolicySet compiled into matchers, immutable and shared
// by all requests through std::shared_ptr<const CompiledPolicies>; a reload builds a new
// one and swaps the pointer (see PolicyStore).
//
// Which view each rule reads (see NormalizedText):
//   LITERAL (NFKC, invisibles removed, case and digits kept): built-in detectors, role
//     tokens, base64 payloads and regex rules by default;
//   FOLDED (also case-folded, diacritics removed, homoglyphs and leetspeak folded): term
//     lists, injection phrases, regex rules with `view: FOLDED`;
//   FOLDED with spaced-out letters joined ("b a d" -> "bad"): term lists again.
// Spans are always reported in bytes of the original text.
#ifndef WARDEN_POLICIES_COMPILED_POLICIES_H_
#define WARDEN_POLICIES_COMPILED_POLICIES_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "policies/compiled_set.h"
#include "proto/common.pb.h"

namespace warden::policies {

// The outcome of scanning one text.
struct ScanResult {
  // The enforced action: the most severe of the non-shadow findings, ALLOW if none.
  v1::Action action = v1::ALLOW;
  // Every finding, shadow ones included, ordered by (begin, end, set, rule).
  std::vector<v1::RuleMatch> matches;
  // The text with every non-shadow REDACT finding replaced (overlapping findings are
  // merged into one replacement, written by the earliest finding's rule).
  std::string redacted_text;
  // For BLOCK: the message of the first blocking rule.
  std::string block_message;
};

// One finding before it becomes a RuleMatch. Points into the CompiledPolicies that
// produced it, which must outlive it.
struct Finding {
  const CompiledRule* rule = nullptr;
  const std::string* entity_type = nullptr;
  int set_order = 0;     // Position of the rule's set in the request's list.
  uint32_t begin = 0;    // Original bytes.
  uint32_t end = 0;
};

// Where one pattern's search resumes in a later window of a stream (an original offset,
// relative to the window it is given with). `view` is the ViewKind scanned, or kViewCount
// for the spaced-letters view.
struct SearchResume {
  const PatternEntry* entry = nullptr;
  int view = 0;
  uint32_t at = 0;
};

// Findings of a text plus how much of it is settled for streaming.
struct WindowFindings {
  std::vector<Finding> findings;
  // Every finding that begins before this original offset is final: no later text can
  // change it. Equals the text size when the hold-back is 0.
  uint32_t settled = 0;
  // The original offset `holdback` view bytes before `settled` (the earliest of all
  // views): a later window must start there so that a match overlapping `settled` is
  // seen again and scanning resumes after it exactly as on the whole text.
  uint32_t context_start = 0;
  // For each pattern with a match settled here (its finding, or the match a validator
  // refused, begins before `settled`), where its next search starts: a later window
  // resumes the pattern there rather than at the window's start, so that its matches line
  // up as on the whole text (matches back to back would otherwise re-align at the window
  // start and leave gaps).
  std::vector<SearchResume> resume;
};

// A stretch [begin, end) of the original text that the redacted text replaces, with the
// finding whose rule writes the replacement.
struct RedactionRegion {
  uint32_t begin = 0;
  uint32_t end = 0;
  const Finding* first = nullptr;
};

// Merges the overlapping spans of the non-shadow REDACT findings (sorted by begin).
std::vector<RedactionRegion> MergeRedactions(const std::vector<Finding>& findings);

// Appends text[from, to) to `out` with every region inside it replaced. Regions must not
// straddle `from` or `to`.
void AppendRedacted(std::string_view text, uint32_t from, uint32_t to,
                    const std::vector<RedactionRegion>& regions, std::string* out);

struct Combination;  // The merged matchers of one set list and direction.

// Immutable after creation; every method is const and thread-safe. The only mutable
// state is an internal cache (behind a mutex) of merged matchers per requested set list
// and direction, built on first use, so that each text view is scanned by one DFA pass.
class CompiledPolicies {
 public:
  // `sets` must have unique ids. The version is the first 16 hex digits of the SHA-256
  // of the sets' canonical contents, in id order.
  static std::shared_ptr<const CompiledPolicies> Create(
      std::vector<std::unique_ptr<CompiledSet>> sets);

  // Scans `text` with the rules of `policy_set_ids` (in that order) that apply to
  // `direction`. NOT_FOUND for an unknown set id, INVALID_ARGUMENT for invalid UTF-8 or
  // a direction other than INPUT/OUTPUT.
  absl::StatusOr<ScanResult> Scan(absl::Span<const std::string> policy_set_ids,
                                  v1::Direction direction, std::string_view text) const;

  // A token (a run of printable ASCII, no whitespace) still growing at the end of a stream window,
  // up to this long, is held whole with this much context before it: a finding inside it
  // (a 2 KB JWT, a long key) may be longer than its rule's bound, and is only final, and
  // taken whole, once the token ends. Longer tokens are held by the bound alone.
  static constexpr size_t kMaxHeldTokenBytes = 16 << 10;
  static constexpr size_t kHeldTokenContextBytes = 64;

  // The building blocks of Scan, for StreamScanner: all findings, and the offset before
  // which they are final given that `holdback_view_bytes` more bytes may still follow
  // (and not after the start of a held token, see kMaxHeldTokenBytes).
  // Each pattern's search begins at the text's start, or for a pattern listed in `resume`
  // (the previous window's WindowFindings::resume, StreamScanner) at that later point; the
  // text before it is context only.
  absl::StatusOr<WindowFindings> FindAll(absl::Span<const std::string> policy_set_ids,
                                         v1::Direction direction, std::string_view text,
                                         size_t holdback_view_bytes,
                                         absl::Span<const SearchResume> resume = {}) const;
  // The longest match (plus context) of the given sets and direction, in view bytes.
  absl::StatusOr<size_t> HoldBackBytes(absl::Span<const std::string> policy_set_ids,
                                       v1::Direction direction) const;
  // Builds the result of `text` from its findings (sorted as FindAll returns them).
  static ScanResult BuildResult(std::string_view text, const std::vector<Finding>& findings);
  // BuildResult without the redacted text: matches, action and block message only.
  static ScanResult Summarize(const std::vector<Finding>& findings);

  // OK when every id names a loaded set (for validating an app's configuration).
  absl::Status CheckSetIds(absl::Span<const std::string> policy_set_ids) const;

  const std::string& version() const { return version_; }
  // Set ids, sorted.
  std::vector<std::string> ListSets() const;
  // The set as text-format proto; NOT_FOUND for an unknown id.
  absl::StatusOr<std::string> GetSetTextProto(std::string_view id) const;

 private:
  CompiledPolicies() = default;
  absl::StatusOr<std::vector<const CompiledSet*>> Resolve(
      absl::Span<const std::string> policy_set_ids) const;
  std::shared_ptr<const Combination> GetCombination(const std::vector<const CompiledSet*>& sets,
                                                    v1::Direction direction) const;

  std::vector<std::unique_ptr<CompiledSet>> sets_;  // Sorted by id.
  std::string version_;
  mutable std::mutex cache_mu_;  // std::mutex: visible to ThreadSanitizer (see PolicyStore).
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const Combination>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_COMPILED_POLICIES_H_
