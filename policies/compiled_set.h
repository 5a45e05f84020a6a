// The compiled form of one PolicySet: its rules and, per direction and text view, one
// RE2::Set prefilter over every pattern so a text is scanned once per view. Built by
// CompileSet, then immutable and shared by all requests; thread-safe.
#ifndef WARDEN_POLICIES_COMPILED_SET_H_
#define WARDEN_POLICIES_COMPILED_SET_H_

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policies/bounded_context.h"
#include "policies/candidate_runs.h"
#include "policies/redaction.h"
#include "proto/common.pb.h"
#include "proto/policy.pb.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace warden::policies {

enum class ViewKind { kLiteral = 0, kFolded = 1 };
constexpr int kViewCount = 2;
constexpr int kDirectionCount = 2;  // Index 0 = INPUT, 1 = OUTPUT.

// A rule's settings, as every finding of it needs them.
struct CompiledRule {
  std::string id;
  std::string set_id;
  int ordinal = 0;  // Position of the rule within its set; orders findings.
  v1::Category category = v1::CATEGORY_UNSPECIFIED;
  v1::Action action = v1::FLAG;
  bool shadow = false;
  std::string block_message;
  Redactor redactor;
  std::vector<std::string> allow_literals;                // Case-folded.
  std::vector<std::unique_ptr<const RE2>> allow_patterns;  // Full match.

  // True when the original matched text is on the allow list.
  bool Allowed(std::string_view matched) const;
};

// Returns the number of leading bytes of a candidate that form a finding (0 = reject).
using EntryValidator = std::function<size_t(std::string_view)>;

// One pattern in a bank. Its finding is the first capturing group that took part when
// the pattern has groups, else the whole match (trimmed when `trim_boundaries`).
struct PatternEntry {
  int rule = 0;  // Index into CompiledSet::rules.
  std::shared_ptr<const RE2> regex;
  EntryValidator validate;  // Empty = accept.
  std::string entity_type;
  bool term_list = false;   // Also scanned on the spaced-letters-collapsed view.
  // With `extends`: the validator sees at most this many bytes of the finding.
  size_t max_finding_bytes = 0;
  // Optional: the finding continues over the following bytes this accepts (DetectorSpec::extends).
  bool (*extends)(char c) = nullptr;
  // A WholeWordAlternation pattern: no groups; TrimWordBoundaries gives the finding.
  bool trim_boundaries = false;
  // When set, every match contains `anchor`, starting at most `anchor_lookbehind` bytes
  // before it; the scanner then starts its searches only around the anchor's occurrences.
  std::string anchor;
  size_t anchor_lookbehind = 0;
  // When set, the scanner searches only the windows around candidate runs.
  std::shared_ptr<const RunClasses> runs;
  // When set, the pattern is class-bounded: its group comes from the whole match.
  std::optional<BoundedContext> bounded;
};

// The patterns of one direction on one view, with their prefilter.
struct PatternBank {
  std::vector<PatternEntry> entries;
  // Null when `entries` is empty. Shared by the two directions when their patterns are the same.
  std::shared_ptr<const RE2::Set> prefilter;
  bool has_term_lists = false;
  size_t max_view_bytes = 0;  // Longest match (plus boundary context) in view bytes.
};

struct CompiledSet {
  std::string id;
  std::string text_proto;  // The set as loaded, for GetSetTextProto.
  // Deterministic serialisation plus the contents of term-list files: hashed into the
  // policy version, so a changed term file changes the version.
  std::string canonical;
  std::vector<CompiledRule> rules;
  std::array<std::array<PatternBank, kViewCount>, kDirectionCount> banks;
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_COMPILED_SET_H_
