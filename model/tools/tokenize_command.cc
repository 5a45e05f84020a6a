// oss tokenize --tokenizer PATH: JSON lines {"text": ...} on stdin -> {"ids": [...]} on
// stdout. Text is encoded as ordinary text (special-token text stays text). PATH is a
// .tiktoken file, a tokenizer.json, or a checkpoint directory; without it the shipped
// o200k_harmony vocabulary is used.
#include <iostream>
#include <memory>

#include "base/runfiles.h"
#include "base/status_macros.h"
#include "model/tokenizer/tokenize_command.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadToolTokenizer(const std::string& path) {
  if (!path.empty()) return Tokenizer::LoadFromPath(path);
  ASSIGN_OR_RETURN(const std::string vocab, FindRunfile(Tokenizer::DefaultVocabPath()));
  return Tokenizer::LoadTiktoken(vocab);
}

absl::Status RunTokenize(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags, Flags::Parse(args, {"tokenizer"}));
  ASSIGN_OR_RETURN(const std::unique_ptr<Tokenizer> tokenizer,
                   LoadToolTokenizer(flags.Has("tokenizer") ? *flags.Required("tokenizer") : ""));
  std::ios::sync_with_stdio(false);
  return TokenizeJsonLines(*tokenizer, std::cin, std::cout);
}

}  // namespace warden::model::tools
