// The `oss tokenize` tool contract (shared/ARCHITECTURE.md): JSON lines `{"text": ...}` in,
// `{"ids": [...]}` lines out, ordinary encoding (special-token text stays text).
#ifndef WARDEN_MODEL_TOKENIZER_TOKENIZE_COMMAND_H_
#define WARDEN_MODEL_TOKENIZER_TOKENIZE_COMMAND_H_

#include <istream>
#include <ostream>

#include "absl/status/status.h"
#include "model/tokenizer/tokenizer.h"

namespace warden::model {

// Reads `in` to the end, writing one output line per input line. Escaped lone surrogates
// ("\ud800" unpaired) are encoded as U+FFFD, as tiktoken does. Blank lines are skipped
// (no output). Stops at the first malformed line (not a JSON object with a string `text`)
// with InvalidArgument naming its 1-based line number; the lines before it have been
// written, so outputs never misalign with inputs. Output is flushed per line. Thread-
// compatible: uses only the (thread-safe) tokenizer and the two streams.
absl::Status TokenizeJsonLines(const Tokenizer& tokenizer, std::istream& in, std::ostream& out);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_TOKENIZE_COMMAND_H_
