// The byte-pair merge against a straightforward reference implementation of spec §4 on
// pieces long enough to use the heap-based path.
#include "model/tokenizer/bpe.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "model/tokenizer/vocab_loader.h"

namespace warden::model {
namespace {

// Spec §4 literally: rescan all adjacent pairs, merge the lowest rank (leftmost on ties).
std::vector<uint32_t> ReferenceBpe(std::string_view piece, const Vocabulary& vocab) {
  std::vector<std::string> parts;
  for (char c : piece) parts.emplace_back(1, c);
  while (parts.size() > 1) {
    uint32_t best_rank = Vocabulary::kNotFound;
    size_t best = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const uint32_t r = vocab.Rank(parts[i] + parts[i + 1]);
      if (r < best_rank) {
        best_rank = r;
        best = i;
      }
    }
    if (best_rank == Vocabulary::kNotFound) break;
    parts[best] += parts[best + 1];
    parts.erase(parts.begin() + best + 1);
  }
  std::vector<uint32_t> ids;
  for (const auto& p : parts) ids.push_back(vocab.Rank(p));
  return ids;
}

const Vocabulary& O200k() {
  static const Vocabulary* vocab = [] {
    auto text = ReadFileToString("model/tokenizer/data/o200k_base.tiktoken");
    auto v = ParseTiktokenVocabulary(text.ok() ? *text : "", "o200k");
    return v.ok() ? v->release() : nullptr;
  }();
  return *vocab;
}

TEST(BytePairEncoding, MatchesReferenceOnLongRandomPieces) {
  ASSERT_NE(&O200k(), nullptr);
  std::mt19937 rng(7);
  const std::vector<std::string> alphabets = {"abcdefghijklmnopqrstuvwxyz", "aaab", "01", " \n",
                                              "\xE4\xB8\x80\xE4\xBA\x8C\xE4\xB8\x89"};
  for (int trial = 0; trial < 40; ++trial) {
    const std::string& alphabet = alphabets[trial % alphabets.size()];
    const size_t length = 50 + rng() % 600;  // spans both the small and the heap path
    std::string piece;
    while (piece.size() < length) {
      const size_t k = alphabet.size() > 26 ? 3 : 1;  // CJK alphabet: whole characters
      const size_t at = (rng() % (alphabet.size() / k)) * k;
      piece += alphabet.substr(at, k);
    }
    std::vector<uint32_t> ids;
    AppendBytePairEncoding(piece, O200k(), &ids);
    EXPECT_EQ(ids, ReferenceBpe(piece, O200k())) << "trial " << trial << " length " << length;
  }
}

TEST(BytePairEncoding, EncodesRepeatedCharacterRunsLikeReference) {
  ASSERT_NE(&O200k(), nullptr);
  for (const std::string unit : {"a", " ", "\xF0\x9F\x98\x80", "ab"}) {
    std::string piece;
    while (piece.size() < 700) piece += unit;
    std::vector<uint32_t> ids;
    AppendBytePairEncoding(piece, O200k(), &ids);
    EXPECT_EQ(ids, ReferenceBpe(piece, O200k())) << unit;
  }
}

}  // namespace
}  // namespace warden::model
