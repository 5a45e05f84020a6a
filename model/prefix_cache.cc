#include "model/prefix_cache.h"

#include <algorithm>

#include "base/status_macros.h"

namespace warden::model {
namespace {

bool StartsWith(absl::Span<const int32_t> text, const std::vector<int32_t>& prefix) {
  return prefix.size() <= text.size() && std::equal(prefix.begin(), prefix.end(), text.begin());
}

}  // namespace

PrefixCache::~PrefixCache() {
  while (EvictLeastRecentlyUsed()) {
  }
}

absl::StatusOr<PrefixCache::Hit> PrefixCache::Lookup(absl::Span<const int32_t> prompt,
                                                     ActivationPrecision precision) {
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->precision == precision && it->tokens.size() < prompt.size() && StartsWith(prompt, it->tokens) &&
        (best == entries_.end() || it->tokens.size() > best->tokens.size())) {
      best = it;
    }
  }
  if (best == entries_.end()) return absl::NotFoundError("no cached prefix of this prompt");
  entries_.splice(entries_.begin(), entries_, best);  // now most recently used
  Hit hit;
  ASSIGN_OR_RETURN(hit.sequence, engine_->ForkSequence(best->sequence));
  hit.tokens = static_cast<int64_t>(best->tokens.size());
  return hit;
}

bool PrefixCache::Contains(absl::Span<const int32_t> tokens, ActivationPrecision precision) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.precision == precision && e.tokens.size() == tokens.size() && StartsWith(tokens, e.tokens);
  });
}

absl::Status PrefixCache::Insert(absl::Span<const int32_t> tokens, SequenceId sequence,
                                 ActivationPrecision precision) {
  if (tokens.empty() || Contains(tokens, precision)) return absl::OkStatus();
  ASSIGN_OR_RETURN(const int64_t bytes, engine_->SequenceKvBytes(sequence));
  if (bytes > max_bytes_) return absl::OkStatus();
  while (bytes_ + bytes > max_bytes_ && EvictLeastRecentlyUsed()) {
  }
  Entry entry;
  ASSIGN_OR_RETURN(entry.sequence, engine_->ForkSequence(sequence));
  entry.tokens.assign(tokens.begin(), tokens.end());
  entry.precision = precision;
  entry.bytes = bytes;
  bytes_ += bytes;
  entries_.push_front(std::move(entry));
  return absl::OkStatus();
}

bool PrefixCache::EvictLeastRecentlyUsed() {
  if (entries_.empty()) return false;
  engine_->ReleaseSequence(entries_.back().sequence).IgnoreError();
  bytes_ -= entries_.back().bytes;
  entries_.pop_back();
  return true;
}

}  // namespace warden::model
