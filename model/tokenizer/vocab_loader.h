// Parsers that turn vocabulary files into a Vocabulary. Stateless functions; thread-safe.
#ifndef WARDEN_MODEL_TOKENIZER_VOCAB_LOADER_H_
#define WARDEN_MODEL_TOKENIZER_VOCAB_LOADER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/tokenizer/vocabulary.h"

namespace warden::model {

// Reads a whole file. NotFound if it does not exist, Internal/Unavailable on read errors.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Parses the tiktoken text format (`base64(bytes) SP rank LF` per line, ranks 0..n-1 in
// order). When the file has exactly 199,998 tokens (o200k_base) the 1,090 o200k_harmony
// special tokens are appended as ids 199998..201087; otherwise no special tokens.
// `source` names the file in error messages.
absl::StatusOr<std::unique_ptr<const Vocabulary>> ParseTiktokenVocabulary(std::string_view contents,
                                                                          std::string_view source);

// Parses a Hugging Face `tokenizer.json` with a byte-level BPE model. Ordinary tokens are
// `model.vocab` entries (GPT-2 byte-to-unicode alphabet) that are not `added_tokens`;
// their ids must be 0..n-1, and the id is used as the merge rank, which is how every
// tiktoken-derived tokenizer.json (including o200k / gpt-oss) is built, so `merges` is not
// consulted. Special tokens: the o200k_harmony table when n = 199,998, otherwise the
// `added_tokens`, whose ids must then follow the ordinary ones without gaps.
absl::StatusOr<std::unique_ptr<const Vocabulary>> ParseHuggingFaceVocabulary(
    std::string_view json_text, std::string_view source);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_VOCAB_LOADER_H_
