// o200k_harmony tokenizer (shared/spec/o200k-tokenizer.md): byte-level BPE over the
// o200k_base vocabulary plus the 1,090 harmony special tokens.
//
// Thread safety: a Tokenizer is immutable after loading and may be shared by any number of
// threads. It owns its vocabulary. IncrementalDecoder (below) is a small per-stream object
// that must not be shared between threads without external locking.
#ifndef WARDEN_MODEL_TOKENIZER_TOKENIZER_H_
#define WARDEN_MODEL_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/tokenizer/vocabulary.h"

namespace warden::model {

// Which special-token strings EncodeWithSpecials recognises. Immutable value type;
// thread-compatible.
class AllowedSpecials {
 public:
  // Every special token of the vocabulary.
  static AllowedSpecials All() { return AllowedSpecials(true, {}); }
  // Only these token texts (e.g. "<|start|>"); unknown names make encoding fail.
  static AllowedSpecials Only(absl::flat_hash_set<std::string> texts) {
    return AllowedSpecials(false, std::move(texts));
  }
  bool all() const { return all_; }
  const absl::flat_hash_set<std::string>& texts() const { return texts_; }

 private:
  AllowedSpecials(bool all, absl::flat_hash_set<std::string> texts)
      : all_(all), texts_(std::move(texts)) {}
  bool all_;
  absl::flat_hash_set<std::string> texts_;
};

class Tokenizer {
 public:
  // Loads `o200k_base.tiktoken` (text format) and adds the harmony special tokens.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTiktoken(const std::string& path);
  // Loads a Hugging Face `tokenizer.json` (byte-level BPE; see ParseHuggingFaceVocabulary
  // for the accepted subset). The o200k pre-tokenizer is always used.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHuggingFace(
      const std::string& tokenizer_json_path);
  // `dir/tokenizer.json` if present, else `dir/o200k_base.tiktoken`, else the shipped
  // default vocabulary (DefaultVocabPath()).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadFromCheckpointDir(const std::string& dir);
  // A directory is loaded with LoadFromCheckpointDir, a `*.json` file with LoadHuggingFace,
  // anything else with LoadTiktoken.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadFromPath(const std::string& path);
  // Path of the shipped vocabulary for binaries that depend on
  // //model/tokenizer:default_vocab: relative to the runfiles root (the working directory of
  // `bazel run`/`bazel test`), else under $RUNFILES_DIR or $TEST_SRCDIR if set.
  static std::string DefaultVocabPath();

  explicit Tokenizer(std::unique_ptr<const Vocabulary> vocab);
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Ordinary encoding: special-token text is plain text. The only mode for text from
  // users, operators or the model. Never fails; invalid UTF-8 bytes are encoded as bytes.
  std::vector<uint32_t> EncodeOrdinary(std::string_view text) const;
  // Appends the ordinary encoding of `text` to `out`.
  void AppendOrdinary(std::string_view text, std::vector<uint32_t>* out) const;

  // Encoding that turns the allowed special-token strings into their ids (trusted text
  // only, e.g. tests). InvalidArgument if `allowed` names a string that is not a special
  // token.
  absl::StatusOr<std::vector<uint32_t>> EncodeWithSpecials(std::string_view text,
                                                           const AllowedSpecials& allowed) const;

  // Id of a special token by its text, e.g. "<|start|>"; NotFound otherwise.
  absl::StatusOr<uint32_t> SpecialTokenId(std::string_view text) const;
  bool IsSpecial(uint32_t id) const { return vocab_->IsSpecial(id); }
  uint32_t vocab_size() const { return vocab_->size(); }
  uint32_t num_ordinary_tokens() const { return vocab_->num_ordinary(); }

  // Concatenated bytes of the tokens (special tokens give their literal text); the result
  // may be invalid UTF-8. InvalidArgument for an id >= vocab_size().
  absl::StatusOr<std::string> DecodeBytes(absl::Span<const uint32_t> ids) const;
  // DecodeBytes, then U+FFFD for each invalid or truncated UTF-8 sequence.
  absl::StatusOr<std::string> DecodeLossy(absl::Span<const uint32_t> ids) const;
  // Bytes of one token; InvalidArgument for an id >= vocab_size().
  absl::StatusOr<std::string_view> TokenBytes(uint32_t id) const;

 private:
  std::unique_ptr<const Vocabulary> vocab_;
};

// Decodes a stream of ids one at a time into text, emitting only complete UTF-8
// characters: bytes of a character split across ids are held back until it completes.
// Invalid sequences become U+FFFD as soon as they are known to be invalid, so the
// concatenation of all Feed() results and Flush() equals Tokenizer::DecodeLossy of the
// whole sequence. Not thread-safe; holds a non-owning pointer to the tokenizer, which must
// outlive it.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer* tokenizer) : tokenizer_(tokenizer) {}

  // Text completed by this id (possibly empty). InvalidArgument for an invalid id (the
  // decoder state is then unchanged).
  absl::StatusOr<std::string> Feed(uint32_t id);
  // Lossy decoding of any held-back bytes (U+FFFD for an incomplete character); resets.
  std::string Flush();
  // Drops held-back bytes.
  void Reset() { pending_.clear(); }
  bool has_pending_bytes() const { return !pending_.empty(); }

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_TOKENIZER_H_
