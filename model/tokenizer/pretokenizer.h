// The o200k pre-tokenizer: splits text into the pieces that BPE encodes independently.
//
// Implements, without a regex engine, the leftmost-first alternation of
// shared/spec/o200k-tokenizer.md §3 (including the `\s+(?!\S)` look-ahead and the
// backtracking of `\s*[\r\n]+`). Stateless; thread-safe.
#ifndef WARDEN_MODEL_TOKENIZER_PRETOKENIZER_H_
#define WARDEN_MODEL_TOKENIZER_PRETOKENIZER_H_

#include <cstddef>
#include <string_view>
#include <vector>

namespace warden::model {

// Returns the end (exclusive byte offset) of the piece that starts at `pos`.
// Requires pos < text.size(); the result is always > pos and <= text.size().
// Bytes that are not valid UTF-8 are treated as single "other" characters.
size_t NextPieceEnd(std::string_view text, size_t pos);

// All pieces of `text`, in order; they are contiguous and cover the text.
std::vector<std::string_view> SplitPieces(std::string_view text);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_PRETOKENIZER_H_
