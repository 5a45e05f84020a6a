// A byte-bounded, least-recently-used cache of prompt prefixes' KV state.
//
// Each entry is an idle engine sequence that has processed exactly the entry's tokens (a
// system + developer message, a moderation policy). A request whose prompt starts with
// those tokens forks the entry instead of prefilling them again; forking copies the KV
// rows bit for bit, so the continuation computes what a full prefill would (up to the
// summation order of chunked versus one-shot prefill, ~1e-6). An entry serves only prompts
// of the activation precision it was computed at (StepInput::precision: a prompt's
// precision is its own), so what a request computes does not depend on which request filled
// the cache.
//
// Thread safety: not thread-safe; the Scheduler's engine loop is its only user.
// Ownership: borrows the engine (which must outlive the cache) and owns the sequences of
// its entries, releasing them on eviction and destruction.
#ifndef WARDEN_MODEL_PREFIX_CACHE_H_
#define WARDEN_MODEL_PREFIX_CACHE_H_

#include <cstdint>
#include <list>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/engine.h"

namespace warden::model {

class PrefixCache {
 public:
  // `max_bytes` bounds the KV bytes all entries hold together (0 disables the cache).
  PrefixCache(Engine* engine, int64_t max_bytes) : engine_(engine), max_bytes_(max_bytes) {}
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  struct Hit {
    SequenceId sequence = 0;  // a new sequence owned by the caller
    int64_t tokens = 0;       // prompt tokens it has already processed
  };
  // Forks the longest entry of `precision` that is a proper prefix of `prompt` (at least
  // one prompt token must remain to produce logits). NOT_FOUND when there is none;
  // RESOURCE_EXHAUSTED when the KV budget cannot hold the copy.
  absl::StatusOr<Hit> Lookup(absl::Span<const int32_t> prompt, ActivationPrecision precision);

  // Stores a copy (fork) of `sequence`, which has processed exactly `tokens` at `precision`.
  // Does nothing if such an entry exists or the copy alone exceeds the byte bound; evicts
  // least recently used entries to stay within it.
  absl::Status Insert(absl::Span<const int32_t> tokens, SequenceId sequence, ActivationPrecision precision);

  // Drops the least recently used entry, giving its KV memory back (to a running sequence
  // that needs it); false when the cache is empty.
  bool EvictLeastRecentlyUsed();

  bool Contains(absl::Span<const int32_t> tokens, ActivationPrecision precision) const;
  int64_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<int32_t> tokens;
    ActivationPrecision precision = ActivationPrecision::kFloat32;
    SequenceId sequence = 0;
    int64_t bytes = 0;
  };

  Engine* engine_;
  const int64_t max_bytes_;
  int64_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_PREFIX_CACHE_H_
