// Byte-pair merge of one pre-tokenized piece (shared/spec/o200k-tokenizer.md §4):
// repeatedly merge the adjacent pair whose concatenation has the lowest rank (leftmost on
// ties) until no pair is a token. Stateless; thread-safe.
#ifndef WARDEN_MODEL_TOKENIZER_BPE_H_
#define WARDEN_MODEL_TOKENIZER_BPE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/tokenizer/vocabulary.h"

namespace warden::model {

// Appends the ranks of `piece` to `out`. Requires every single byte to be an ordinary
// token of `vocab` (true for o200k); a byte that is not is skipped. Short pieces use a
// rescanning array (fast for the usual few-byte pieces); long ones a linked list with a
// lazy min-heap, O(n log n) time and O(n) memory.
void AppendBytePairEncoding(std::string_view piece, const Vocabulary& vocab,
                            std::vector<uint32_t>* out);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_BPE_H_
