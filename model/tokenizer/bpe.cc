#include "model/tokenizer/bpe.h"

#include <array>
#include <functional>
#include <queue>

namespace warden::model {
namespace {

constexpr uint32_t kNone = Vocabulary::kNotFound;
// Pieces up to this many bytes use the quadratic rescanning merge, which beats the heap
// for short inputs because it does no allocation.
constexpr size_t kSmallPiece = 96;

void AppendPartRanks(std::string_view piece, const Vocabulary& vocab, const uint32_t* starts,
                     size_t num_parts, std::vector<uint32_t>* out) {
  for (size_t k = 0; k < num_parts; ++k) {
    const uint32_t rank = vocab.Rank(piece.substr(starts[k], starts[k + 1] - starts[k]));
    if (rank != kNone) out->push_back(rank);
  }
}

// Parts are [starts[k], starts[k+1]); pair_rank[k] is the rank of parts k and k+1 merged.
void SmallMerge(std::string_view piece, const Vocabulary& vocab, std::vector<uint32_t>* out) {
  std::array<uint32_t, kSmallPiece + 1> starts;
  std::array<uint32_t, kSmallPiece> pair_rank;
  size_t num_parts = piece.size();
  for (size_t k = 0; k <= num_parts; ++k) starts[k] = static_cast<uint32_t>(k);
  auto rank_of = [&](size_t k) {  // requires k + 2 <= num_parts
    return vocab.Rank(piece.substr(starts[k], starts[k + 2] - starts[k]));
  };
  for (size_t k = 0; k + 1 < num_parts; ++k) pair_rank[k] = rank_of(k);
  while (num_parts > 1) {
    size_t best = 0;
    uint32_t best_rank = kNone;
    for (size_t k = 0; k + 1 < num_parts; ++k) {
      if (pair_rank[k] < best_rank) {
        best_rank = pair_rank[k];
        best = k;
      }
    }
    if (best_rank == kNone) break;
    // Merge parts best and best+1: drop starts[best+1] and pair_rank[best+1].
    for (size_t k = best + 1; k < num_parts; ++k) starts[k] = starts[k + 1];
    for (size_t k = best + 1; k + 1 < num_parts - 1; ++k) pair_rank[k] = pair_rank[k + 1];
    --num_parts;
    if (best + 1 < num_parts) pair_rank[best] = rank_of(best);
    if (best > 0) pair_rank[best - 1] = rank_of(best - 1);
  }
  AppendPartRanks(piece, vocab, starts.data(), num_parts, out);
}

// Linked list of parts keyed by start byte, with a lazy min-heap of pairs. A heap entry
// packs (rank << 32 | start), so ties in rank pop the leftmost pair first. An entry is stale
// when the pair now starting at `start` has another rank: ranks identify byte strings, and
// a pair's start is fixed, so equal rank means the very same pair.
class HeapMerger {
 public:
  HeapMerger(std::string_view piece, const Vocabulary& vocab)
      : piece_(piece),
        vocab_(vocab),
        n_(static_cast<uint32_t>(piece.size())),
        next_(n_),
        prev_(n_),
        pair_rank_(n_, kNone) {}

  void Run(std::vector<uint32_t>* out) {
    std::vector<uint64_t> initial;
    initial.reserve(n_);
    for (uint32_t i = 0; i < n_; ++i) {
      next_[i] = i + 1;
      prev_[i] = i == 0 ? kNone : i - 1;
    }
    for (uint32_t i = 0; i + 1 < n_; ++i) {
      pair_rank_[i] = vocab_.Rank(piece_.substr(i, 2));
      if (pair_rank_[i] != kNone) initial.push_back(Key(pair_rank_[i], i));
    }
    heap_ = Heap(std::greater<uint64_t>(), std::move(initial));
    while (!heap_.empty()) {
      const uint64_t key = heap_.top();
      heap_.pop();
      const uint32_t start = static_cast<uint32_t>(key & 0xFFFFFFFFu);
      if (next_[start] == kDead || pair_rank_[start] != static_cast<uint32_t>(key >> 32)) {
        continue;
      }
      Merge(start);
    }
    for (uint32_t i = 0; i < n_; i = next_[i]) {
      const uint32_t rank = vocab_.Rank(piece_.substr(i, next_[i] - i));
      if (rank != kNone) out->push_back(rank);
    }
  }

 private:
  static constexpr uint32_t kDead = 0xFFFFFFFEu;
  using Heap = std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<uint64_t>>;

  static uint64_t Key(uint32_t rank, uint32_t start) {
    return (static_cast<uint64_t>(rank) << 32) | start;
  }

  // Recomputes the rank of the pair starting at part `start` and queues it if it is a token.
  void Update(uint32_t start) {
    const uint32_t mid = next_[start];
    if (mid >= n_) {
      pair_rank_[start] = kNone;
      return;
    }
    pair_rank_[start] = vocab_.Rank(piece_.substr(start, next_[mid] - start));
    if (pair_rank_[start] != kNone) heap_.push(Key(pair_rank_[start], start));
  }

  void Merge(uint32_t start) {
    const uint32_t right = next_[start];
    const uint32_t after = next_[right];
    next_[start] = after;
    if (after < n_) prev_[after] = start;
    next_[right] = kDead;
    Update(start);
    if (prev_[start] != kNone) Update(prev_[start]);
  }

  std::string_view piece_;
  const Vocabulary& vocab_;
  uint32_t n_;
  std::vector<uint32_t> next_;
  std::vector<uint32_t> prev_;
  std::vector<uint32_t> pair_rank_;
  Heap heap_;
};

}  // namespace

void AppendBytePairEncoding(std::string_view piece, const Vocabulary& vocab,
                            std::vector<uint32_t>* out) {
  if (piece.empty()) return;
  if (piece.size() <= kSmallPiece) {
    SmallMerge(piece, vocab, out);
    return;
  }
  HeapMerger(piece, vocab).Run(out);
}

}  // namespace warden::model
