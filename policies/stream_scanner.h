// StreamScanner: the policy filters over a text that arrives in chunks (model output).
// Text is released only once no match could still begin in it: the scanner holds back
// the tail a match could still grow into (the longest match of the app's rules, from the
// regexes' bounds or their `max_match_bytes` caps) and rescans a window that overlaps
// the released part, so a match split across chunks is caught. A token (a run of
// printable ASCII) still growing at the end is held whole, up to
// CompiledPolicies::kMaxHeldTokenBytes, so a secret longer than its rule's bound (a 2 KB
// JWT) is redacted whole, not released. The released text concatenated, and the findings,
// equal what CompiledPolicies::Scan returns for the whole text (for matches no longer than
// their rule's bound or within such a token).
#ifndef WARDEN_POLICIES_STREAM_SCANNER_H_
#define WARDEN_POLICIES_STREAM_SCANNER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "policies/compiled_policies.h"
#include "proto/common.pb.h"

namespace warden::policies {

// What one Push or Finish produced.
struct StreamUpdate {
  // Text that is now safe to send on (already redacted). Empty once blocked.
  std::string released;
  // Findings settled by this call (shadow ones included), spans in bytes of the whole
  // stream's original text.
  std::vector<v1::RuleMatch> matches;
  // The most severe enforced action of the stream so far. BLOCK is reported by the call
  // that settles the blocking finding; the caller should stop the stream.
  v1::Action action = v1::ALLOW;
  std::string block_message;  // Set with BLOCK.
};

// One per stream; not thread-safe. Keeps `policies` alive for its own lifetime, so a
// reload does not change the rules in the middle of a stream.
class StreamScanner {
 public:
  static constexpr size_t kMinScanStepBytes = 32;
  // Each scan reads a window of about twice the hold-back (the held tail plus the context
  // before it) on top of the new text, so rescanning after every small chunk would read
  // every byte many times (quadratic in hold-back / chunk size). New text is therefore
  // batched until this many multiples of the hold-back arrived: the whole stream is then
  // scanned about (2 + kScanStepHoldbacks) / kScanStepHoldbacks times in total.
  static constexpr size_t kScanStepHoldbacks = 2;

  // NOT_FOUND for an unknown set id; INVALID_ARGUMENT for a bad direction.
  static absl::StatusOr<std::unique_ptr<StreamScanner>> Create(
      std::shared_ptr<const CompiledPolicies> policies, std::vector<std::string> policy_set_ids,
      v1::Direction direction);

  // Adds a chunk (it may end inside a UTF-8 character). The text is rescanned once at
  // least scan_step_bytes() arrived since the last scan, so small chunks cost little; text
  // is released only by a scan (held_bytes() stays below hold-back + step + 64, or, while
  // a token is held, the token, the 64 bytes before it, hold-back and step).
  // INVALID_ARGUMENT for invalid UTF-8; FAILED_PRECONDITION after Finish. After a BLOCK
  // the caller should stop pushing.
  absl::StatusOr<StreamUpdate> Push(std::string_view chunk);
  // Scans and releases the rest. INVALID_ARGUMENT when the stream ends inside a
  // character.
  absl::StatusOr<StreamUpdate> Finish();

  // Bytes received but not yet released.
  size_t held_bytes() const { return received_ - released_; }
  // New bytes that trigger a rescan: max(kMinScanStepBytes, kScanStepHoldbacks * hold-back).
  // While a token is held (CompiledPolicies::kMaxHeldTokenBytes), half the text held, or the
  // token's end, whichever comes first: rescanning a held token every step cost its
  // length squared over the step.
  size_t scan_step_bytes() const { return scan_step_; }
  // Scans so far (for tests).
  size_t scans() const { return scans_; }

 private:
  StreamScanner(std::shared_ptr<const CompiledPolicies> policies, std::vector<std::string> ids,
                v1::Direction direction, size_t holdback);
  absl::StatusOr<StreamUpdate> Advance(bool final);
  void Settle(const WindowFindings& window, uint32_t end_of_scan, StreamUpdate* update);
  void Release(uint64_t target, StreamUpdate* update);
  void Trim();

  std::shared_ptr<const CompiledPolicies> policies_;
  std::vector<std::string> ids_;
  v1::Direction direction_;
  size_t holdback_;  // View bytes.
  size_t scan_step_;  // See scan_step_bytes().

  std::string buffer_;       // Original bytes from base_ on.
  uint64_t base_ = 0;        // Stream offset of buffer_[0].
  uint64_t received_ = 0;
  uint64_t released_ = 0;
  uint64_t settled_ = 0;     // Every finding beginning before this is known.
  uint64_t context_start_ = 0;  // Later windows start no later than this.
  uint64_t scanned_upto_ = 0;   // received_ at the last scan.
  size_t next_scan_step_ = 0;   // New bytes that trigger the next scan (see scan_step_bytes()).
  bool holding_token_ = false;  // The last scan left more held than a token-free stream would.
  size_t scans_ = 0;
  // Settled non-shadow REDACT findings not yet fully released (stream offsets).
  struct PendingRedaction {
    uint64_t begin;
    uint64_t end;
    const CompiledRule* rule;
  };
  std::vector<PendingRedaction> redactions_;
  // Patterns whose search resumes after settled_ (stream offsets; WindowFindings::resume).
  struct Resume {
    const PatternEntry* entry;
    int view;
    uint64_t at;
  };
  std::vector<Resume> resume_;
  v1::Action action_ = v1::ALLOW;
  std::string block_message_;
  bool finished_ = false;
};

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_STREAM_SCANNER_H_
