#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moderation/features.h"
#include "moderation/text_fold.h"

namespace warden::moderation {
namespace {

TEST(FoldText, LowercasesRemovesInvisiblesAndCollapsesSpace) {
  EXPECT_EQ(FoldText("  HeLLo \t\n World  "), "hello world");
  EXPECT_EQ(FoldText("k\xE2\x80\x8Bi\xC2\xADll"), "kill");  // zero-width space, soft hyphen
  EXPECT_EQ(FoldText("\xEF\xBB\xBFok"), "ok");
}

TEST(FoldText, PassesInvalidUtf8ThroughLowercased) {
  EXPECT_EQ(FoldText("A\xFF\xE2\x80"), "a\xFF\xE2\x80");
}

TEST(FoldText, FoldsLeetspeakFullWidthAndHomoglyphs) {
  EXPECT_EQ(FoldText("k1ll"), "kill");
  EXPECT_EQ(FoldText("\xEF\xBC\xA8\xEF\xBD\x89"), "hi");  // full-width "Hi"
  EXPECT_EQ(FoldText("\xD0\xB0ttack"), "attack");              // Cyrillic a + "ttack"
}

// Folding version 3: the evasions measured against version 2 (MODEL_CARD.md, "Evasions").
TEST(FoldText, Version3FoldsSymbolLookAlikesInsideWords) {
  EXPECT_EQ(FoldText("You /\\r\xE2\x82\xAC an \xE2\x82\xACv!| tr/\\!tor"), "you are an evil traitor");
  EXPECT_EQ(FoldText("lyr!(5 of 5u!(!d\xE2\x82\xAC"), "lyrics of suicide");
  // Punctuation stays punctuation: a trailing or doubled "!", a "(" that opens, symbols
  // in runs without a letter.
  EXPECT_EQ(FoldText("wow!! (really) | 100 \xE2\x82\xAC"), "wow!! (really) | 100 \xE2\x82\xAC");
  EXPECT_EQ(FoldText("wow!"), "wow!");
  // Version 2 leaves them alone.
  EXPECT_EQ(FoldText("ev!|", 2), "ev!|");
}

TEST(FoldText, Version3RemovesDiacriticsAndCombiningMarks) {
  EXPECT_EQ(FoldText("I am going to k\xC3\xADll you"), "i am going to kill you");  // í
  EXPECT_EQ(FoldText("ki\xCC\xB6ll"), "kill");                                   // U+0336 strikethrough
  EXPECT_EQ(FoldText("caf\xC3\xA9", 2), "caf\xC3\xA9");
}

TEST(FoldText, Version3JoinsSpelledOutLetters) {
  EXPECT_EQ(FoldText("I will k i l l you"), "i will kill you");
  EXPECT_EQ(FoldText("k.i.l.l k-i-l-l k_i_l_l k*i*l*l"), "kill kill kill kill");
  EXPECT_EQ(FoldText("W h a t is t h e c a p i t a l"), "what is thecapital");
  // Two single letters, or letters beside words, stay apart.
  EXPECT_EQ(FoldText("a b test, i.e. x"), "a b test, i.e. x");
  EXPECT_EQ(FoldText("plan a b or c"), "plan a b or c");
  EXPECT_EQ(FoldText("k i l l", 2), "k i l l");
}

TEST(FoldText, Version3CollapsesRepeatedLetters) {
  EXPECT_EQ(FoldText("stuuuupid kiiiill meeee"), "stupid kill me");
  EXPECT_EQ(FoldText("good kill 1000 ..."), "good kill 1000 ...");  // pairs, digits, punctuation stay
  EXPECT_EQ(FoldText("stuuuupid", 2), "stuuuupid");
}

TEST(FoldText, Version3StillHandlesInvalidUtf8) {
  EXPECT_EQ(FoldText("K I L L \xFF"), "kill \xFF");
}

TEST(ExtractFeatures, SameWordsGiveSameFeaturesAndBucketsInRange) {
  FeatureConfig config;
  config.buckets_log2 = 12;
  std::vector<uint32_t> a, b, c;
  ExtractFeatures("i will hurt you", config, &a);
  ExtractFeatures("i, will; hurt!! you", config, &b);
  ExtractFeatures("i will help you", config, &c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (const uint32_t f : a) EXPECT_LT(f, 1u << 12);
  // 4 words + 3 bigrams + char n-grams of "<i>", "<will>", "<hurt>", "<you>".
  EXPECT_EQ(a.size(), 4u + 3u + (1 + 0 + 0) + (4 + 3 + 2) + (4 + 3 + 2) + (3 + 2 + 1));
}

TEST(ExtractFeatures, EmptyAndPunctuationOnlyTextHaveNoFeatures) {
  std::vector<uint32_t> out = {1, 2};
  ExtractFeatures("", FeatureConfig(), &out);
  EXPECT_TRUE(out.empty());
  ExtractFeatures("?! ... :)", FeatureConfig(), &out);
  EXPECT_TRUE(out.empty());
}

TEST(ExtractFeatures, VeryLongWordIsBounded) {
  std::vector<uint32_t> out;
  ExtractFeatures(std::string(100000, 'a'), FeatureConfig(), &out);
  EXPECT_LT(out.size(), 200u);
}

TEST(KeepFirstOccurrences, RemovesRepeatsAndKeepsFirstOccurrenceOrder) {
  std::vector<uint32_t> buckets = {7, 3, 7, 63, 64, 3, 9, 64, 7, (1u << 20) - 1};
  KeepFirstOccurrences(20, &buckets);
  EXPECT_EQ(buckets, (std::vector<uint32_t>{7, 3, 63, 64, 9, (1u << 20) - 1}));
  std::vector<uint32_t> empty;
  KeepFirstOccurrences(20, &empty);
  EXPECT_TRUE(empty.empty());
}

TEST(KeepFirstOccurrences, DropsOutOfRangeBucketsAndForgetsBetweenCalls) {
  std::vector<uint32_t> buckets = {5, 1u << 12, 0xFFFFFFFFu, 5, (1u << 12) - 1};
  KeepFirstOccurrences(12, &buckets);
  EXPECT_EQ(buckets, (std::vector<uint32_t>{5, (1u << 12) - 1}));
  // A second call starts from nothing: the buckets of the first are not "seen" any more.
  std::vector<uint32_t> again = {5, 5, (1u << 12) - 1};
  KeepFirstOccurrences(12, &again);
  EXPECT_EQ(again, (std::vector<uint32_t>{5, (1u << 12) - 1}));
  // buckets_log2 above the largest allowed is capped rather than allocating more.
  std::vector<uint32_t> large = {1u << 23, 1u << 23, 1u << 24, 1u << 30};
  KeepFirstOccurrences(40, &large);
  EXPECT_EQ(large, (std::vector<uint32_t>{1u << 23}));
}

TEST(KeepFirstOccurrences, HandlesManyDistinctBuckets) {
  std::vector<uint32_t> buckets;
  for (uint32_t i = 0; i < 5000; ++i) buckets.push_back(i * 64);  // one per bitmap word
  for (uint32_t i = 0; i < 5000; ++i) buckets.push_back(i * 64);
  KeepFirstOccurrences(20, &buckets);
  ASSERT_EQ(buckets.size(), 5000u);
  for (uint32_t i = 0; i < 5000; ++i) EXPECT_EQ(buckets[i], i * 64) << i;
}

TEST(ExtractFeatures, CountOnceMakesARepeatedSentenceLookLikeTwoCopies) {
  FeatureConfig config;
  config.buckets_log2 = 16;
  config.repeats = kCountOnce;
  std::string twice, fifty;
  for (int i = 0; i < 50; ++i) fifty += "the cat sat on the mat. ";
  twice = "the cat sat on the mat. the cat sat on the mat.";
  std::vector<uint32_t> a, b, every;
  ExtractFeatures(twice, config, &a);
  ExtractFeatures(fifty, config, &b);
  EXPECT_EQ(a, b);  // the only feature two copies add to one is the bigram "mat the"
  config.repeats = kCountEvery;
  ExtractFeatures(fifty, config, &every);
  EXPECT_GT(every.size(), 40 * b.size());
}

TEST(ExtractFeatures, CountOnceKeepsEveryDistinctBucketOfCountEvery) {
  FeatureConfig every;
  every.buckets_log2 = 14;
  FeatureConfig once = every;
  once.repeats = kCountOnce;
  const std::string text = "kill kill the process, then kill it again and again";
  std::vector<uint32_t> all, distinct;
  ExtractFeatures(text, every, &all);
  ExtractFeatures(text, once, &distinct);
  KeepFirstOccurrences(every.buckets_log2, &all);
  EXPECT_EQ(all, distinct);
}

TEST(LengthNorm, ScalesBySquareRootOrMean) {
  FeatureConfig config;
  EXPECT_FLOAT_EQ(LengthNorm(config, 4), 0.5f);
  EXPECT_FLOAT_EQ(LengthNorm(config, 0), 0.0f);
  config.length_norm = 1;
  EXPECT_FLOAT_EQ(LengthNorm(config, 4), 0.25f);
}

TEST(LengthNorm, ShortTextNormShrinksShortTextsMoreThanLongOnes) {
  FeatureConfig config;
  config.length_norm = 2;
  EXPECT_FLOAT_EQ(LengthNorm(config, 36), 0.1f);  // 1 / sqrt(36 + 64)
  EXPECT_FLOAT_EQ(LengthNorm(config, 0), 0.0f);
  FeatureConfig plain;
  // A one-word text (about 20 occurrences) keeps less than half of its plain scale, a 1 KB
  // text (about 1,500) nearly all of it.
  EXPECT_LT(LengthNorm(config, 20) / LengthNorm(plain, 20), 0.5f);
  EXPECT_GT(LengthNorm(config, 1500) / LengthNorm(plain, 1500), 0.97f);
}

TEST(ValidateFeatureConfig, RejectsOutOfRangeValues) {
  FeatureConfig config;
  EXPECT_TRUE(ValidateFeatureConfig(config).ok());
  config.buckets_log2 = 30;
  EXPECT_FALSE(ValidateFeatureConfig(config).ok());
  config = FeatureConfig();
  config.char_min = 6;
  config.char_max = 3;
  EXPECT_FALSE(ValidateFeatureConfig(config).ok());
  config = FeatureConfig();
  config.length_norm = 2;
  EXPECT_TRUE(ValidateFeatureConfig(config).ok());
  config.length_norm = 3;
  EXPECT_FALSE(ValidateFeatureConfig(config).ok());
  config = FeatureConfig();
  config.repeats = kCountOnce;
  EXPECT_TRUE(ValidateFeatureConfig(config).ok());
  config.repeats = 2;
  EXPECT_FALSE(ValidateFeatureConfig(config).ok());
}

}  // namespace
}  // namespace warden::moderation
