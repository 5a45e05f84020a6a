#include "policies/stream_scanner.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace warden::policies {
namespace {

// How far before the needed context the window may start, to begin after whitespace.
constexpr size_t kExtraContextBytes = 64;

// The length of the prefix of `text` that holds only complete UTF-8 sequences.
size_t CompletePrefix(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // Continuation byte: look further back.
    const size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    return length > back ? n - back : n;
  }
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StreamScanner>> StreamScanner::Create(
    std::shared_ptr<const CompiledPolicies> policies, std::vector<std::string> ids,
    v1::Direction direction) {
  if (policies == nullptr) return absl::InvalidArgumentError("no policies");
  absl::StatusOr<size_t> holdback = policies->HoldBackBytes(ids, direction);
  if (!holdback.ok()) return holdback.status();
  return std::unique_ptr<StreamScanner>(
      new StreamScanner(std::move(policies), std::move(ids), direction, *holdback));
}

StreamScanner::StreamScanner(std::shared_ptr<const CompiledPolicies> policies,
                             std::vector<std::string> ids, v1::Direction direction,
                             size_t holdback)
    : policies_(std::move(policies)), ids_(std::move(ids)), direction_(direction),
      holdback_(holdback),
      scan_step_(std::max(kMinScanStepBytes, kScanStepHoldbacks * holdback)),
      next_scan_step_(scan_step_) {}

absl::StatusOr<StreamUpdate> StreamScanner::Push(std::string_view chunk) {
  if (finished_) return absl::FailedPreconditionError("stream already finished");
  buffer_.append(chunk);
  received_ += chunk.size();
  // A held token that ended (a byte that cannot continue it) is scanned at once.
  const bool token_ended =
      holding_token_ && std::any_of(chunk.begin(), chunk.end(), [](char c) { return !absl::ascii_isgraph(static_cast<unsigned char>(c)); });
  if (received_ - scanned_upto_ < next_scan_step_ && !token_ended) {
    StreamUpdate update;
    update.action = action_;
    update.block_message = block_message_;
    return update;
  }
  return Advance(false);
}

absl::StatusOr<StreamUpdate> StreamScanner::Finish() {
  if (finished_) return absl::FailedPreconditionError("stream already finished");
  finished_ = true;
  return Advance(true);
}

absl::StatusOr<StreamUpdate> StreamScanner::Advance(bool final) {
  const std::string_view window =
      final ? std::string_view(buffer_) : std::string_view(buffer_).substr(0, CompletePrefix(buffer_));
  // A pattern with settled matches resumes its search where the whole text's search would
  // (after its last settled match), not at the window's start (WindowFindings::resume).
  std::vector<SearchResume> resume;
  for (const Resume& r : resume_) {
    if (r.at > base_) resume.push_back({r.entry, r.view, static_cast<uint32_t>(r.at - base_)});
  }
  absl::StatusOr<WindowFindings> found = policies_->FindAll(ids_, direction_, window, final ? 0 : holdback_, resume);
  if (!found.ok()) return found.status();
  for (const SearchResume& r : found->resume) {
    auto it = std::find_if(resume_.begin(), resume_.end(),
                           [&](const Resume& old) { return old.entry == r.entry && old.view == r.view; });
    if (it == resume_.end()) it = resume_.insert(resume_.end(), {r.entry, r.view, 0});
    it->at = std::max(it->at, base_ + r.at);
  }
  scanned_upto_ = received_;
  ++scans_;
  context_start_ = std::max(context_start_, base_ + found->context_start);
  StreamUpdate update;
  const uint32_t end_of_scan = final ? static_cast<uint32_t>(buffer_.size()) : found->settled;
  Settle(*found, end_of_scan, &update);
  if (action_ != v1::BLOCK) Release(final ? received_ : settled_, &update);
  update.action = action_;
  update.block_message = block_message_;
  const uint64_t held = received_ - settled_;
  holding_token_ = held > holdback_ + scan_step_ + kExtraContextBytes;
  next_scan_step_ = holding_token_ ? std::max<size_t>(scan_step_, held / 2) : scan_step_;
  Trim();
  return update;
}

void StreamScanner::Settle(const WindowFindings& window, uint32_t end_of_scan,
                           StreamUpdate* update) {
  const uint64_t settled_now = base_ + end_of_scan;
  std::vector<Finding> settled;
  for (const Finding& f : window.findings) {
    const uint64_t begin = base_ + f.begin;
    if (begin < settled_ || begin >= settled_now) continue;
    Finding shifted = f;
    shifted.begin = static_cast<uint32_t>(begin);
    shifted.end = static_cast<uint32_t>(base_ + f.end);
    settled.push_back(shifted);
    if (!f.rule->shadow && f.rule->action == v1::REDACT && f.end > f.begin) {
      redactions_.push_back({begin, base_ + f.end, f.rule});
    }
  }
  // The unary result builder turns findings into RuleMatches and an action.
  ScanResult partial = CompiledPolicies::Summarize(settled);
  for (v1::RuleMatch& match : partial.matches) update->matches.push_back(std::move(match));
  if (partial.action == v1::BLOCK && action_ != v1::BLOCK) block_message_ = partial.block_message;
  action_ = std::max(action_, partial.action);
  settled_ = std::max(settled_, settled_now);
}

void StreamScanner::Release(uint64_t target, StreamUpdate* update) {
  // Merge the pending redactions exactly as MergeRedactions does for the unary path.
  struct Region {
    uint64_t begin, end;
    const CompiledRule* rule;
  };
  std::vector<Region> regions;
  for (const PendingRedaction& r : redactions_) {
    if (!regions.empty() && r.begin < regions.back().end) {
      regions.back().end = std::max(regions.back().end, r.end);
    } else {
      regions.push_back({r.begin, r.end, r.rule});
    }
  }
  uint64_t upto = target;
  for (const Region& region : regions) {
    if (region.begin < upto && region.end > upto) upto = region.begin;  // Still growing.
  }
  if (upto <= released_) return;
  uint64_t pos = released_;
  for (const Region& region : regions) {
    if (region.end <= released_ || region.begin >= upto) continue;
    update->released.append(buffer_, pos - base_, region.begin - pos);
    region.rule->redactor.AppendReplacement(
        std::string_view(buffer_).substr(region.begin - base_, region.end - region.begin), &update->released);
    pos = region.end;
  }
  if (pos < upto) update->released.append(buffer_, pos - base_, upto - pos);
  released_ = upto;
  redactions_.erase(std::remove_if(redactions_.begin(), redactions_.end(),
                                   [&](const PendingRedaction& r) { return r.end <= released_; }),
                    redactions_.end());
}

void StreamScanner::Trim() {
  const uint64_t keep_from = std::min(released_, context_start_);
  if (keep_from <= base_ + kExtraContextBytes) return;
  uint64_t cut = keep_from;
  // Prefer to start the window right after whitespace, so that no word (and no
  // normalisation segment) is cut in half.
  const uint64_t floor = cut - kExtraContextBytes;
  uint64_t at = cut;
  while (at > floor && buffer_[at - base_ - 1] != ' ' && buffer_[at - base_ - 1] != '\n') --at;
  if (at > floor) {
    cut = at;
  } else {
    while (cut > base_ && (static_cast<unsigned char>(buffer_[cut - base_]) & 0xC0) == 0x80) --cut;
  }
  buffer_.erase(0, cut - base_);
  base_ = cut;
}

}  // namespace warden::policies
