// Token table of a byte-level BPE encoding: the bytes of every token id and the reverse
// lookup from bytes to rank (= id) for ordinary tokens and from text to id for special
// tokens.
//
// Immutable after Create(); safe to share across threads. Owns all its memory: every
// token's bytes live in one arena string, and the hash maps key string_views into it.
#ifndef WARDEN_MODEL_TOKENIZER_VOCABULARY_H_
#define WARDEN_MODEL_TOKENIZER_VOCABULARY_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace warden::model {

// Hash for token byte strings. This Abseil build hashes std::string_view through
// std::hash (a byte-at-a-time loop for short keys); tokens are short, so two unaligned
// 8-byte loads and a multiply-mix are both faster and well distributed. absl's
// flat_hash_map mixes the result again before use.
struct TokenBytesHash {
  size_t operator()(std::string_view s) const {
    const size_t n = s.size();
    uint64_t a = 0;
    uint64_t b = 0;
    if (n >= 8) {
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + n - 8, 8);    // overlaps for n < 16
      for (size_t i = 8; i + 8 < n; i += 8) {  // middle words of long tokens
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        a = Mix(a ^ w, 0x9E3779B97F4A7C15ull);
      }
    } else if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, s.data(), 4);
      std::memcpy(&hi, s.data() + n - 4, 4);
      a = (static_cast<uint64_t>(hi) << 32) | lo;
    } else if (n > 0) {
      a = (static_cast<uint64_t>(static_cast<unsigned char>(s[0])) << 16) |
          (static_cast<uint64_t>(static_cast<unsigned char>(s[n / 2])) << 8) |
          static_cast<unsigned char>(s[n - 1]);
    }
    return static_cast<size_t>(
        Mix(a ^ (static_cast<uint64_t>(n) << 56), b ^ 0xA0761D6478BD642Full));
  }

 private:
  static uint64_t Mix(uint64_t x, uint64_t y) {
    const unsigned __int128 r =
        static_cast<unsigned __int128>(x ^ 0xE7037ED1A0B428DBull) * (y ^ 0x8EBC6AF09C88C6E3ull);
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
};

class Vocabulary {
 public:
  static constexpr uint32_t kNotFound = 0xFFFFFFFFu;

  // `arena` holds the bytes of token i at [offsets[i], offsets[i+1]); offsets has
  // size()+1 entries. Ids [0, num_ordinary) are ordinary BPE tokens (their id is their
  // merge rank), ids [num_ordinary, size()) are special tokens whose bytes are their text.
  // Fails with InvalidArgument (naming `source`) on duplicate or empty tokens.
  static absl::StatusOr<std::unique_ptr<const Vocabulary>> Create(std::string arena,
                                                                  std::vector<uint32_t> offsets,
                                                                  uint32_t num_ordinary,
                                                                  std::string_view source);

  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  // Rank of an ordinary token with exactly these bytes, or kNotFound.
  uint32_t Rank(std::string_view bytes) const {
    if (bytes.size() > max_ordinary_length_) return kNotFound;
    const auto it = ranks_.find(bytes);
    return it == ranks_.end() ? kNotFound : it->second;
  }
  // Id of the special token with exactly this text, or kNotFound.
  uint32_t SpecialId(std::string_view text) const {
    const auto it = specials_.find(text);
    return it == specials_.end() ? kNotFound : it->second;
  }
  // Bytes of token `id`; requires id < size().
  std::string_view TokenBytes(uint32_t id) const {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  uint32_t num_ordinary() const { return num_ordinary_; }
  bool IsSpecial(uint32_t id) const { return id >= num_ordinary_ && id < size(); }

 private:
  Vocabulary() = default;

  std::string arena_;
  std::vector<uint32_t> offsets_;
  uint32_t num_ordinary_ = 0;
  size_t max_ordinary_length_ = 0;
  absl::flat_hash_map<std::string_view, uint32_t, TokenBytesHash> ranks_;
  absl::flat_hash_map<std::string_view, uint32_t, TokenBytesHash> specials_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_VOCABULARY_H_
