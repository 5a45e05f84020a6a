// The built-in detectors: for each DetectorType, the entity type it reports, a candidate
// regex over the LITERAL view and a validator that confirms (and may trim) a candidate.
// The table is static and immutable; thread-safe.
#ifndef WARDEN_POLICIES_DETECTORS_H_
#define WARDEN_POLICIES_DETECTORS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policies/bounded_context.h"
#include "policies/candidate_runs.h"
#include "proto/policy.pb.h"

namespace warden::policies {

// Per-rule settings a validator reads.
struct DetectorParams {
  double min_entropy = 3.5;  // HIGH_ENTROPY_SECRET, bits per character.
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
  // hold-back. (A stream holds a token still growing at its end past it: see
  // CompiledPolicies::FindAll.)
  size_t max_bytes;
  // Optional: a literal every match contains, at most `anchor_lookbehind` bytes after
  // the start of the match (context included). Lets the scanner skip most of a text.
  std::string_view anchor = {};
  size_t anchor_lookbehind = 0;
  CandidateRuns runs = {};
  // Optional: `pattern` is class-bounded by these (see BoundedContext): the scanner then
  // finds the finding without RE2's submatch engine.
  ContextBounds bounds = {};
  // Optional: the regex matches only the finding's first bytes, which continues over every
  // following byte this accepts; `validate` sees at most `max_bytes` of it, and an accepted
  // finding is then taken to its end. Keeps each candidate's cost bounded where a run
  // can hold many candidates (an unbounded `+` made a run of "token=token=..." quadratic:
  // each candidate the validator refused read the run to its end again).
  bool (*extends)(char c) = nullptr;
};

// nullptr for DETECTOR_TYPE_UNSPECIFIED or values this build does not know.
const DetectorSpec* FindDetector(v1::DetectorType type);

// The candidate regex of base64 blobs of at least `min_chars` characters (the injection
// heuristics' encoded payloads); group 1 is the blob. Class-bounded by
// kEncodedPayloadBounds.
std::string EncodedPayloadPattern(uint32_t min_chars);
inline constexpr ContextBounds kEncodedPayloadBounds = {"A-Za-z0-9+/=_\\-", "A-Za-z0-9+/=_\\-"};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_DETECTORS_H_
