// Loading vocabularies: the special-token table, the Hugging Face format (built from the
// tiktoken file in the test), malformed files, and checkpoint-directory selection.
#include "model/tokenizer/vocab_loader.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "model/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/tokenizer/fixture_util.h"

namespace warden::model {
namespace {

using ::warden::testing::IdsFromJson;
using ::warden::testing::ReadJsonLines;
using ::warden::testing::SharedTokenizer;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

TEST(SpecialTokens, MatchTheCanonicalTable) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::ifstream in("tests/data/tokenizer/harmony_special_tokens.tsv");
  ASSERT_TRUE(in);
  std::string line;
  std::getline(in, line);  // header
  int rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    ASSERT_GE(cols.size(), 2u) << line;
    const uint32_t id = static_cast<uint32_t>(std::stoul(cols[0]));
    auto looked_up = tok->SpecialTokenId(cols[1]);
    ASSERT_TRUE(looked_up.ok()) << cols[1];
    EXPECT_EQ(*looked_up, id);
    EXPECT_TRUE(tok->IsSpecial(id));
    EXPECT_EQ(*tok->TokenBytes(id), cols[1]);
    ++rows;
  }
  EXPECT_EQ(rows, 1090);
  EXPECT_FALSE(tok->IsSpecial(199997));
  EXPECT_FALSE(tok->SpecialTokenId("<|endofprompt|>").ok());
  EXPECT_FALSE(tok->SpecialTokenId("<|reserved_201088|>").ok());
}

TEST(EncodeWithSpecials, RecognisesOnlyAllowedTokens) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const std::string text = "a<|start|>b<|end|>";
  auto only_start = tok->EncodeWithSpecials(text, AllowedSpecials::Only({"<|start|>"}));
  ASSERT_TRUE(only_start.ok());
  std::vector<uint32_t> expected = tok->EncodeOrdinary("a");
  expected.push_back(200006);
  for (uint32_t id : tok->EncodeOrdinary("b<|end|>")) expected.push_back(id);
  EXPECT_EQ(*only_start, expected);
  EXPECT_EQ(tok->EncodeWithSpecials(text, AllowedSpecials::Only({"<|nope|>"})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EncodeOrdinary, NeverProducesSpecialIdsForSpecialText) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  std::string text;
  for (uint32_t id = 199998; id < 201088; id += 7) text += *tok->TokenBytes(id);
  text += "<|start|>user<|message|><|end|><|call|><|return|>";
  for (uint32_t id : tok->EncodeOrdinary(text)) EXPECT_FALSE(tok->IsSpecial(id)) << id;
}

TEST(EncodeOrdinary, IsSafeToShareAcrossThreads) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const auto cases = ReadJsonLines("tests/data/tokenizer/encode_cases.jsonl");
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < cases.size(); i += 4) {
        if (tok->EncodeOrdinary(cases[i]["text"].get<std::string>()) !=
            IdsFromJson(cases[i]["ids"])) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(EncodeOrdinary, EncodesInvalidUtf8AsItsBytes) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  const std::string text = "ok\xFF\xC3 \xE2\x82\xAC\xED\xA0\x80";
  EXPECT_EQ(*tok->DecodeBytes(tok->EncodeOrdinary(text)), text);
}

TEST(TiktokenLoader, RejectsMalformedFilesWithLineNumber) {
  auto bad_base64 = ParseTiktokenVocabulary("QQ== 0\n!!!! 1\n", "x.tiktoken");
  EXPECT_EQ(bad_base64.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_base64.status().message().find("x.tiktoken:2"), std::string::npos);
  auto out_of_order = ParseTiktokenVocabulary("QQ== 0\nQg== 5\n", "x.tiktoken");
  EXPECT_EQ(out_of_order.status().code(), absl::StatusCode::kInvalidArgument);
  auto duplicate = ParseTiktokenVocabulary("QQ== 0\nQQ== 1\n", "x.tiktoken");
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTiktokenVocabulary("", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::LoadTiktoken("/nonexistent/o200k").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TiktokenLoader, LoadsSmallVocabularyWithoutSpecials) {
  auto vocab = ParseTiktokenVocabulary("YQ== 0\nYg== 1\nYWI= 2\n", "tiny");
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  Tokenizer tok(std::move(*vocab));
  EXPECT_EQ(tok.vocab_size(), 3u);
  EXPECT_EQ(tok.EncodeOrdinary("abab"), (std::vector<uint32_t>{2, 2}));
  EXPECT_EQ(tok.EncodeOrdinary("ba"), (std::vector<uint32_t>{1, 0}));
}

// GPT-2 byte-to-unicode mapping, written independently of the loader's inverse.
std::string ByteLevel(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    int cp = b;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    if (!printable) {
      int n = 0;
      for (int x = 0; x < b; ++x) {
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) ++n;
      }
      cp = 256 + n;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

TEST(HuggingFaceLoader, ConvertedVocabularyEncodesLikeTiktoken) {
  const Tokenizer* tok = SharedTokenizer();
  ASSERT_NE(tok, nullptr);
  nlohmann::json vocab = nlohmann::json::object();
  for (uint32_t id = 0; id < tok->num_ordinary_tokens(); ++id) {
    vocab[ByteLevel(*tok->TokenBytes(id))] = id;
  }
  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", 199999}, {"content", "<|endoftext|>"}, {"special", true}});
  nlohmann::json root = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  const std::string dir = TempDir() + "/hf_ckpt";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  WriteFile(dir + "/tokenizer.json", root.dump());

  auto hf = Tokenizer::LoadFromCheckpointDir(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  EXPECT_EQ((*hf)->vocab_size(), 201088u);
  int failures = 0;
  for (const auto& c : ReadJsonLines("tests/data/tokenizer/encode_cases.jsonl")) {
    if ((*hf)->EncodeOrdinary(c["text"].get<std::string>()) != IdsFromJson(c["ids"])) {
      if (++failures <= 5) ADD_FAILURE() << c["id"];
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(*(*hf)->SpecialTokenId("<|start|>"), 200006u);
}

TEST(HuggingFaceLoader, RejectsMalformedJson) {
  EXPECT_EQ(ParseHuggingFaceVocabulary("{", "t.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHuggingFaceVocabulary(R"({"model":{}})", "t.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseHuggingFaceVocabulary(R"({"model":{"vocab":{"a":0,"c":2}}})", "t.json").status().code(),
      absl::StatusCode::kInvalidArgument);  // id 1 missing
  EXPECT_EQ(
      ParseHuggingFaceVocabulary(R"({"model":{"vocab":{"a":16000000}}})", "t.json").status().code(),
      absl::StatusCode::kInvalidArgument);  // an id far beyond the entry count
  EXPECT_EQ(
      ParseHuggingFaceVocabulary(R"({"model":{"vocab":{"a":"x"}}})", "t.json").status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointDir, FallsBackToShippedVocabulary) {
  const std::string dir = TempDir() + "/empty_ckpt";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  auto tok = Tokenizer::LoadFromCheckpointDir(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->EncodeOrdinary("hello world"), (std::vector<uint32_t>{24912, 2375}));
}

}  // namespace
}  // namespace warden::model
