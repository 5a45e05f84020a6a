// Candidate runs: where a detector's matches can be, so that its regex runs only over a
// few short windows of a text instead of all of it. A detector whose findings consist of
// characters from a small ASCII set (digits and separators, base64, hex and dots) states
// that set and the context around a run; the scanner then finds the runs with cheap byte
// loops (eight bytes at a time for digits) and searches only the merged windows around
// them, with exactly the findings of a search of the whole text.
#ifndef WARDEN_POLICIES_CANDIDATE_RUNS_H_
#define WARDEN_POLICIES_CANDIDATE_RUNS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace warden::policies {

// Every match contains at least `min_run` consecutive bytes of a maximal run of `bytes`
// and lies within `before` bytes before and `after` bytes after that run. A run is a
// candidate only when it has at least `min_required` bytes of `required` (when not empty)
// and one of `also_required` (when not empty); in other runs every match is rejected (by
// the regex or the validator), and a rejected match changes nothing else (the search
// resumes one character after its start). A plain aggregate of static strings.
struct CandidateRuns {
  std::string_view bytes;  // ASCII. Empty: not used.
  std::string_view required;  // Found eight bytes at a time when digits plus up to 2 more.
  size_t min_run = 1;
  size_t before = 0;
  size_t after = 0;
  size_t min_required = 1;
  std::string_view also_required = {};
  // Every match begins with the character just before a run (outside it) or at the start
  // of the text, and the rest of it (the finding, or context such as a label before it)
  // starts the run, so no other match can start inside a run that hosted one (accepted or
  // rejected): the search resumes after the run.
  bool one_match_per_run = false;
};

// CandidateRuns compiled for scanning. Immutable after construction; thread-safe.
class RunClasses {
 public:
  enum : uint8_t { kRun = 1, kRequired = 2, kAlsoRequired = 4 };

  explicit RunClasses(const CandidateRuns& runs);

  const CandidateRuns& runs() const { return runs_; }
  // kRun | kRequired | kAlsoRequired bits of a byte.
  uint8_t of(unsigned char c) const { return classes_[c]; }
  // The first byte at or after `i` in `required` (text.size() when there is none).
  size_t NextRequired(std::string_view text, size_t i) const;

 private:
  CandidateRuns runs_;
  std::array<uint8_t, 256> classes_ = {};
  bool word_at_a_time_ = true;  // `required` is digits and at most two other bytes.
  size_t extras_ = 0;
  uint64_t extra_[2] = {0, 0};  // The non-digit required bytes, repeated over a word.
};

// The merged windows [begin, end) around the candidate runs of a text, in order. Not
// thread-safe; one per scan; `classes` and `text` must outlive it.
class CandidateWindows {
 public:
  CandidateWindows(const RunClasses& classes, std::string_view text)
      : classes_(classes), text_(text) {}

  // Moves to the next window; false when there is none.
  bool Next();
  size_t begin() const { return begin_; }
  size_t end() const { return end_; }

  // Whether a match can still start at or after `from` in the current window (it needs
  // min_run bytes of one of the window's runs).
  bool MayMatchFrom(size_t from);
  // Where the search resumes after a match, given where it would otherwise: after the run
  // that hosted the match when runs host one match each.
  size_t ResumeAfterMatch(size_t from);

 private:
  // Finds the next candidate run from i_ on; false at the end of the text.
  bool NextRun(std::pair<size_t, size_t>* run);
  // Whether a run with `required` required bytes and the classes `seen` is a candidate.
  bool IsCandidate(size_t required, uint8_t seen) const;
  size_t WindowBegin(size_t run_begin) const;
  size_t WindowEnd(size_t run_end) const;

  const RunClasses& classes_;
  const std::string_view text_;
  size_t i_ = 0;  // Where NextRun continues; never inside a run already seen.
  bool has_pending_ = false;  // A run found past the current window.
  std::pair<size_t, size_t> pending_;
  size_t begin_ = 0;
  size_t end_ = 0;
  absl::InlinedVector<std::pair<size_t, size_t>, 8> runs_;  // The current window's runs.
  size_t run_ = 0;  // The first of runs_ that may still host a match.
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_CANDIDATE_RUNS_H_
