// Standalone `tokenize` tool: the `oss tokenize` contract without the rest of //model:oss.
//   bazel run //model/tokenizer:tokenize -- [--tokenizer PATH] < in.jsonl > out.jsonl
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "model/tokenizer/tokenize_command.h"
#include "model/tokenizer/tokenizer.h"

ABSL_FLAG(std::string, tokenizer, "",
          "o200k_base.tiktoken, tokenizer.json or checkpoint directory (default: shipped "
          "vocabulary)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string path = absl::GetFlag(FLAGS_tokenizer);
  if (path.empty()) path = warden::model::Tokenizer::DefaultVocabPath();
  auto tokenizer = warden::model::Tokenizer::LoadFromPath(path);
  if (!tokenizer.ok()) {
    std::cerr << "tokenize: " << tokenizer.status() << "\n";
    return 1;
  }
  std::ios::sync_with_stdio(false);
  const absl::Status status = warden::model::TokenizeJsonLines(**tokenizer, std::cin, std::cout);
  if (!status.ok()) {
    std::cerr << status << "\n";
    return 1;
  }
  return 0;
}
