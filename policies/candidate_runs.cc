#include "policies/candidate_runs.h"

#include <algorithm>
#include <cstring>

namespace warden::policies {
namespace {

constexpr uint64_t kOnes = ~uint64_t{0} / 255;
constexpr uint64_t kHigh = kOnes * 0x80;
// Runs at least this long are found by probing bytes rather than by required bytes.
constexpr size_t kProbeMinRun = 5;

// Non-zero when one of the eight bytes of `x` is an ASCII digit (bit-twiddling
// "hasbetween"; bytes >= 0x80 never count).
uint64_t HasDigit(uint64_t x) {
  const uint64_t low7 = x & (kOnes * 0x7F);
  return (kOnes * (127 + '9' + 1) - low7) & ~x & (low7 + kOnes * (127 - ('0' - 1))) & kHigh;
}

// Non-zero when one of the eight bytes of `x` equals the byte repeated in `repeated`
// (bit-twiddling "haszero").
uint64_t HasByte(uint64_t x, uint64_t repeated) {
  const uint64_t v = x ^ repeated;
  return (v - kOnes) & ~v & kHigh;
}

}  // namespace

RunClasses::RunClasses(const CandidateRuns& runs) : runs_(runs) {
  runs_.min_run = std::max<size_t>(runs_.min_run, 1);
  runs_.min_required = std::max<size_t>(runs_.min_required, 1);
  for (char c : runs.bytes) classes_[static_cast<unsigned char>(c)] |= kRun;
  for (char c : runs.required) classes_[static_cast<unsigned char>(c)] |= kRequired;
  for (char c : runs.also_required) classes_[static_cast<unsigned char>(c)] |= kAlsoRequired;
  for (char c : runs.required) {
    if (c >= '0' && c <= '9') continue;
    if (extras_ == 2) {
      word_at_a_time_ = false;
      break;
    }
    extra_[extras_++] = kOnes * static_cast<unsigned char>(c);
  }
}

size_t RunClasses::NextRequired(std::string_view text, size_t i) const {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (word_at_a_time_) {
    for (; i + 8 <= n; i += 8) {
      uint64_t x;
      std::memcpy(&x, bytes + i, 8);
      uint64_t hit = HasDigit(x);
      for (size_t k = 0; k < extras_; ++k) hit |= HasByte(x, extra_[k]);
      if (hit != 0) break;  // The byte loop below finds which one.
    }
  }
  while (i < n && !(classes_[bytes[i]] & kRequired)) ++i;
  return i;
}

bool CandidateWindows::Next() {
  runs_.clear();
  run_ = 0;
  std::pair<size_t, size_t> run;
  if (has_pending_) {
    run = pending_;
    has_pending_ = false;
  } else if (!NextRun(&run)) {
    return false;
  }
  begin_ = WindowBegin(run.first);
  end_ = WindowEnd(run.second);
  runs_.push_back(run);
  while (NextRun(&run)) {
    if (WindowBegin(run.first) > end_) {  // Not overlapping: the next window's.
      pending_ = run;
      has_pending_ = true;
      break;
    }
    end_ = std::max(end_, WindowEnd(run.second));
    runs_.push_back(run);
  }
  return true;
}

bool CandidateWindows::MayMatchFrom(size_t from) {
  if (from > end_) return false;
  const size_t min_run = classes_.runs().min_run;
  while (run_ < runs_.size() && runs_[run_].second < from + min_run) ++run_;
  return run_ < runs_.size();
}

size_t CandidateWindows::ResumeAfterMatch(size_t from) {
  if (!classes_.runs().one_match_per_run) return from;
  while (run_ < runs_.size() && runs_[run_].second <= from) ++run_;
  if (run_ < runs_.size() && runs_[run_].first <= from) return runs_[run_].second;
  return from;
}

bool CandidateWindows::NextRun(std::pair<size_t, size_t>* run) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
  const size_t n = text_.size();
  const CandidateRuns& runs = classes_.runs();
  // Long runs are found by probing every min_run-th byte (a run that long contains one of
  // them); short ones from their required bytes, eight bytes at a time.
  const bool probe = runs.required.empty() || runs.min_run >= kProbeMinRun;
  while (i_ < n) {
    // A byte that belongs to every candidate run starting at or after i_.
    size_t seed;
    if (probe) {
      seed = i_ + runs.min_run - 1;
      if (seed >= n) break;
      if (!(classes_.of(bytes[seed]) & RunClasses::kRun)) {
        i_ = seed + 1;  // No run of min_run bytes can start in [i_, seed].
        continue;
      }
    } else {
      seed = classes_.NextRequired(text_, i_);
      if (seed >= n) break;
    }
    size_t begin = seed;
    while (begin > i_ && (classes_.of(bytes[begin - 1]) & RunClasses::kRun)) --begin;
    size_t end = begin;
    size_t required = 0;
    uint8_t seen = 0;
    for (; end < n && (classes_.of(bytes[end]) & RunClasses::kRun); ++end) {
      seen |= classes_.of(bytes[end]);
      required += (classes_.of(bytes[end]) & RunClasses::kRequired) != 0;
    }
    i_ = end;
    if (end - begin >= runs.min_run && IsCandidate(required, seen)) {
      *run = {begin, end};
      return true;
    }
  }
  i_ = n;
  return false;
}

bool CandidateWindows::IsCandidate(size_t required, uint8_t seen) const {
  const CandidateRuns& runs = classes_.runs();
  if (!runs.also_required.empty() && !(seen & RunClasses::kAlsoRequired)) return false;
  return runs.required.empty() || required >= runs.min_required;
}

size_t CandidateWindows::WindowBegin(size_t run_begin) const {
  const size_t before = classes_.runs().before;
  return run_begin > before ? run_begin - before : 0;
}

size_t CandidateWindows::WindowEnd(size_t run_end) const {
  return std::min(text_.size(), run_end + classes_.runs().after);
}

}  // namespace warden::policies
