#include "model/tokenizer/tokenizer.h"

#include <sys/stat.h>

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/tokenizer/bpe.h"
#include "model/tokenizer/pretokenizer.h"
#include "model/tokenizer/utf8.h"
#include "model/tokenizer/vocab_loader.h"

namespace warden::model {
namespace {

absl::Status InvalidIdError(uint32_t id, uint32_t vocab_size) {
  return absl::InvalidArgumentError(
      absl::StrCat("token id ", id, " is outside the vocabulary (size ", vocab_size, ")"));
}

// Loads `path` with `parse`; NotFound passes through unchanged so callers can fall back.
template <typename Parser>
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadWith(const std::string& path, Parser parse) {
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) return contents.status();
  absl::StatusOr<std::unique_ptr<const Vocabulary>> vocab = parse(*contents, path);
  if (!vocab.ok()) return vocab.status();
  return std::make_unique<Tokenizer>(std::move(*vocab));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadTiktoken(const std::string& path) {
  return LoadWith(path, ParseTiktokenVocabulary);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadHuggingFace(
    const std::string& tokenizer_json_path) {
  return LoadWith(tokenizer_json_path, ParseHuggingFaceVocabulary);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromCheckpointDir(
    const std::string& dir) {
  auto hf = LoadHuggingFace(absl::StrCat(dir, "/tokenizer.json"));
  if (!absl::IsNotFound(hf.status())) return hf;
  auto tiktoken = LoadTiktoken(absl::StrCat(dir, "/o200k_base.tiktoken"));
  if (!absl::IsNotFound(tiktoken.status())) return tiktoken;
  return LoadTiktoken(DefaultVocabPath());
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromPath(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return LoadFromCheckpointDir(path);
  }
  if (absl::EndsWith(path, ".json")) return LoadHuggingFace(path);
  return LoadTiktoken(path);
}

std::string Tokenizer::DefaultVocabPath() {
  constexpr char kRelative[] = "model/tokenizer/data/o200k_base.tiktoken";
  struct stat info;
  if (::stat(kRelative, &info) == 0) return kRelative;
  // Binaries started outside their runfiles directory still find it through the
  // environment Bazel sets for `bazel run` / `bazel test`.
  for (const char* env : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    const char* root = std::getenv(env);
    if (root == nullptr) continue;
    std::string candidate = absl::StrCat(root, "/warden/", kRelative);
    if (::stat(candidate.c_str(), &info) == 0) return candidate;
  }
  return kRelative;
}

Tokenizer::Tokenizer(std::unique_ptr<const Vocabulary> vocab) : vocab_(std::move(vocab)) {}

std::vector<uint32_t> Tokenizer::EncodeOrdinary(std::string_view text) const {
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  AppendOrdinary(text, &ids);
  return ids;
}

void Tokenizer::AppendOrdinary(std::string_view text, std::vector<uint32_t>* out) const {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = NextPieceEnd(text, pos);
    const std::string_view piece = text.substr(pos, end - pos);
    const uint32_t rank = vocab_->Rank(piece);
    if (rank != Vocabulary::kNotFound) {
      out->push_back(rank);
    } else {
      AppendBytePairEncoding(piece, *vocab_, out);
    }
    pos = end;
  }
}

absl::StatusOr<std::vector<uint32_t>> Tokenizer::EncodeWithSpecials(
    std::string_view text, const AllowedSpecials& allowed) const {
  for (const std::string& t : allowed.texts()) {
    if (vocab_->SpecialId(t) == Vocabulary::kNotFound) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowed special `", t, "` is not a special token"));
    }
  }
  // Every special token has the form `<|...|>` without `|>` inside, so the only candidate
  // starting at a `<|` ends at the next `|>`.
  std::vector<uint32_t> ids;
  size_t done = 0;
  size_t search = 0;
  size_t close = 0;  // first `|>` at or after open + 2, reused while still ahead (linear time)
  while (true) {
    const size_t open = text.find("<|", search);
    if (open == std::string_view::npos) break;
    if (close < open + 2) close = text.find("|>", open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view candidate = text.substr(open, close + 2 - open);
    const uint32_t id = vocab_->SpecialId(candidate);
    if (id != Vocabulary::kNotFound &&
        (allowed.all() || allowed.texts().contains(std::string(candidate)))) {
      AppendOrdinary(text.substr(done, open - done), &ids);
      ids.push_back(id);
      done = search = open + candidate.size();
    } else {
      search = open + 1;
    }
  }
  AppendOrdinary(text.substr(done), &ids);
  return ids;
}

absl::StatusOr<uint32_t> Tokenizer::SpecialTokenId(std::string_view text) const {
  const uint32_t id = vocab_->SpecialId(text);
  if (id == Vocabulary::kNotFound) {
    return absl::NotFoundError(absl::StrCat("no special token `", std::string(text), "`"));
  }
  return id;
}

absl::StatusOr<std::string_view> Tokenizer::TokenBytes(uint32_t id) const {
  if (id >= vocab_->size()) return InvalidIdError(id, vocab_->size());
  return vocab_->TokenBytes(id);
}

absl::StatusOr<std::string> Tokenizer::DecodeBytes(absl::Span<const uint32_t> ids) const {
  std::string bytes;
  for (const uint32_t id : ids) {
    if (id >= vocab_->size()) return InvalidIdError(id, vocab_->size());
    bytes.append(vocab_->TokenBytes(id));
  }
  return bytes;
}

absl::StatusOr<std::string> Tokenizer::DecodeLossy(absl::Span<const uint32_t> ids) const {
  absl::StatusOr<std::string> bytes = DecodeBytes(ids);
  if (!bytes.ok()) return bytes.status();
  return Utf8Lossy(*bytes);
}

absl::StatusOr<std::string> IncrementalDecoder::Feed(uint32_t id) {
  absl::StatusOr<std::string_view> bytes = tokenizer_->TokenBytes(id);
  if (!bytes.ok()) return bytes.status();
  pending_.append(*bytes);
  std::string text;
  const size_t consumed = AppendUtf8Lossy(pending_, /*at_end=*/false, &text);
  pending_.erase(0, consumed);
  return text;
}

std::string IncrementalDecoder::Flush() {
  std::string text = Utf8Lossy(pending_);
  pending_.clear();
  return text;
}

}  // namespace warden::model
