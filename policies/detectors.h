// The built-in detectors: for each DetectorType, the entity type it reports, a candidate
// regex over the LITERAL view and a validator that confirms (and may trim) a candidate.
// The table is static and immutable; thread-safe.
#ifndef WARDEN_POLICIES_DETECTORS_H_
#define WARDEN_POLICIES_DETECTORS_H_

#include <cstddef>
#include <string_view>

#include "proto/policy.pb.h"

namespace warden::policies {

// Per-rule settings a validator reads.
struct DetectorParams {
  double min_entropy = 3.5;  // HIGH_ENTROPY_SECRET, bits per character.
};

// Where findings can be: every match contains at least `min_run` consecutive bytes of a
// maximal run of `bytes` (ASCII) and lies within `before` bytes before and `after` bytes
// after that run. A run is a candidate only when it has at least `min_required` bytes of
// `required` (when not empty) and one of `also_required` (when not empty); in other runs
// every match is rejected (by the regex or the validator), and a rejected match changes
// nothing else (the search resumes one character after its start). Lets the scanner
// search only the windows around candidate runs, with exactly the findings of a search of
// the whole text.
struct CandidateRuns {
  std::string_view bytes;  // Empty: not used.
  std::string_view required;  // Found eight bytes at a time when digits plus up to 2 more.
  size_t min_run = 1;
  size_t before = 0;
  size_t after = 0;
  size_t min_required = 1;
  std::string_view also_required = {};
  // The context before every match is one character outside the run and the finding
  // starts the run, so no other match can start inside a run that hosted one (accepted or
  // rejected): the search resumes after the run.
  bool one_match_per_run = false;
};

// Returns the number of leading bytes of `candidate` that form the finding (0 = reject).
using DetectorValidator = size_t (*)(std::string_view candidate, const DetectorParams&);

struct DetectorSpec {
  v1::DetectorType type;
  std::string_view entity_type;  // e.g. "EMAIL"; also the default placeholder "[EMAIL]".
  // RE2 over the LITERAL view. When it has capturing groups, the first group that took
  // part in the match is the finding; the rest is context (labels, word boundaries).
  std::string_view pattern;
  DetectorValidator validate;  // nullptr = every candidate is a finding.
  // The longest match, context included, in bytes of the LITERAL view: the streaming
  // hold-back. Candidates whose finding is longer are rejected.
  size_t max_bytes;
  // Optional: a literal every match contains, at most `anchor_lookbehind` bytes after
  // the start of the match (context included). Lets the scanner skip most of a text.
  std::string_view anchor = {};
  size_t anchor_lookbehind = 0;
  CandidateRuns runs = {};
};

// nullptr for DETECTOR_TYPE_UNSPECIFIED or values this build does not know.
const DetectorSpec* FindDetector(v1::DetectorType type);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_DETECTORS_H_
