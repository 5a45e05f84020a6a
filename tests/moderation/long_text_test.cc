#include "moderation/long_text.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::moderation {
namespace {

const int kViolence = CategoryIndex(warden::v1::VIOLENCE);

// The space-separated words of `text` (absl's splitters take absl::string_view, which is
// not std::string_view in this Abseil build).
std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = std::min(text.find(' ', i), text.size());
    if (end > i) words.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return words;
}

template <typename Strings>
std::string Join(const Strings& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += std::string(part);
  }
  return out;
}

// Dilutes as the fast classifier does: violence is the share of a text's words that are
// "KILL" (a trailing full stop ignored). Records how many texts each call scored.
class ShareOfKillClassifier : public Classifier {
 public:
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(absl::Span<const std::string_view> texts) const override {
    batch_sizes.push_back(texts.size());
    std::vector<CategoryScores> out(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::vector<std::string_view> words = SplitWords(texts[i]);
      int kills = 0;
      for (std::string_view word : words) kills += word == "KILL" || word == "KILL.";
      out[i].scores[kViolence] = words.empty() ? 0.0f : static_cast<float>(kills) / words.size();
    }
    return out;
  }
  std::string name() const override { return "share-of-kill"; }
  mutable std::vector<size_t> batch_sizes;
};

// `n` sentences of `words` neutral words each.
std::string Neutral(int n, int words) {
  std::vector<std::string> sentences;
  for (int s = 0; s < n; ++s) {
    std::vector<std::string> w(words, "calm");
    w.back() = "calm.";
    sentences.push_back(Join(w, " "));
  }
  return Join(sentences, " ");
}

// The lines of `text` (for windows of one-word lines).
std::vector<std::string_view> SplitOnNewlines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i <= text.size()) {
    const size_t end = std::min(text.find('\n', i), text.size());
    if (end > i) lines.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return lines;
}

std::vector<std::string> AsStrings(const std::vector<std::string_view>& views) {
  return std::vector<std::string>(views.begin(), views.end());
}

int CountWords(std::string_view text) {
  return static_cast<int>(SplitWords(text).size());
}

TEST(ValidateWindowWords, ZeroOrTheBoundsAreAccepted) {
  for (const int64_t ok : {int64_t{0}, int64_t{16}, int64_t{64}, int64_t{4096}}) {
    EXPECT_TRUE(ValidateWindowWords(ok).ok()) << ok;
  }
  for (const int64_t bad : {int64_t{-1}, int64_t{1}, int64_t{15}, int64_t{4097}, int64_t{1} << 32}) {
    const absl::Status status = ValidateWindowWords(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("between 16 and 4096"), absl::string_view::npos) << status.message();
  }
}

TEST(WordWindows, AShortTextIsItsOwnOnlyWindow) {
  EXPECT_TRUE(WordWindows("", 16).empty());
  EXPECT_TRUE(WordWindows(Neutral(4, 4), 16).empty());  // exactly 16 words
  EXPECT_TRUE(WordWindows(Neutral(1, 40), 1).empty());  // no window size
}

TEST(WordWindows, EverySentenceIsAWindowBesideRunsOfWords) {
  // Three sentences of eight words, a window of 16: each sentence alone, and 16-word runs
  // starting every 8 words, the last ending at the last word.
  const std::string a = "a1 a2 a3 a4 a5 a6 a7 a8.", b = "b1 b2 b3 b4 b5 b6 b7 b8!", c = "c1 c2 c3 c4 c5 c6 c7 c8?";
  EXPECT_EQ(AsStrings(WordWindows(a + " " + b + " " + c, 16)), (std::vector<std::string>{a, a + " " + b, b, b + " " + c, c}));
}

TEST(WordWindows, ShortSentencesAreGroupedUntilEightWordsOrALongerSentence) {
  // Sentences of 3, 4, 2, 5 words, then one of 8, then 1 and 2 at the end of the text.
  const std::string a = "a1 a2 a3.", b = "b1 b2 b3 b4!", c = "c1 c2?", d = "d1 d2 d3 d4 d5.";
  const std::string e = "e1 e2 e3 e4 e5 e6 e7 e8.", f = "f1.", g = "g1 g2.";
  const std::vector<std::string> windows = AsStrings(WordWindows(Join(std::vector<std::string>{a, b, c, d, e, f, g}, " "), 16));
  for (const std::string& window : {a + " " + b + " " + c,  // 9 words: the group closes
                                    d,                       // closed by the longer sentence after it
                                    e, f + " " + g}) {       // the text's end closes a group
    EXPECT_NE(std::find(windows.begin(), windows.end(), window), windows.end()) << window;
  }
  for (const std::string& alone : {a, b, c, f, g}) {
    EXPECT_EQ(std::find(windows.begin(), windows.end(), alone), windows.end()) << alone;
  }
}

TEST(WordWindows, SentencesEndAtClosingQuotesEllipsesAndLineBreaks) {
  const std::string first = "w1 w2 w3 w4 w5 w6 w7 w8 w9 \"stop.\"";
  const std::string second = "x1 x2 x3 x4 x5 x6 x7 x8 x9 x10\u2026";
  const std::string third = "y1 y2 y3 y4 y5 y6 y7 y8 y9 y10";
  const std::string fourth = "z1 z2 z3 z4 z5 z6 z7 z8 z9 z10";
  const std::vector<std::string> windows =
      AsStrings(WordWindows(first + " " + second + " " + third + "\n" + fourth, 16));
  for (const std::string& sentence : {first, second, third, fourth}) {
    EXPECT_NE(std::find(windows.begin(), windows.end(), sentence), windows.end()) << sentence;
  }
}

TEST(WordWindows, ASentenceLongerThanAWindowIsCoveredByOverlappingRuns) {
  std::vector<std::string> words;
  for (int i = 0; i < 40; ++i) words.push_back("w" + std::to_string(i));
  const std::vector<std::string> windows = AsStrings(WordWindows(Join(words, " "), 16));
  // Runs of 16 words every 8 words, the last ending at the last word.
  ASSERT_EQ(windows.size(), 4u);
  const int starts[] = {0, 8, 16, 24};
  for (int k = 0; k < 4; ++k) {
    const std::vector<std::string> run(words.begin() + starts[k], words.begin() + starts[k] + 16);
    EXPECT_EQ(windows[k], Join(run, " "));
  }
}

// Random texts: every window lies on word boundaries and holds at most N words, windows are
// distinct and in order, each sentence of 8 to N words is a window, each shorter one lies in
// a window of at most 14 words, and any 9 consecutive words of the text lie inside one window.
TEST(WordWindows, PropertiesHoldOnRandomTexts) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 16;
    std::vector<std::string> sentences;
    const int count = 1 + random() % 12;
    for (int s = 0; s < count; ++s) {
      const int length = 1 + random() % 30;
      std::vector<std::string> w;
      for (int i = 0; i < length; ++i) w.push_back("s" + std::to_string(s) + "w" + std::to_string(i));
      w.back() += ".";
      sentences.push_back(Join(w, " "));
    }
    const std::string text = Join(sentences, "  ");
    const std::vector<std::string_view> windows = WordWindows(text, n);
    if (CountWords(text) <= n) {
      EXPECT_TRUE(windows.empty());
      continue;
    }
    size_t previous_begin = 0;
    for (size_t k = 0; k < windows.size(); ++k) {
      const size_t begin = windows[k].data() - text.data();
      const size_t end = begin + windows[k].size();
      ASSERT_LE(end, text.size());
      EXPECT_TRUE(begin == 0 || text[begin - 1] == ' ');
      EXPECT_TRUE(end == text.size() || text[end] == ' ');
      EXPECT_LE(CountWords(windows[k]), n);
      if (k > 0) {
        EXPECT_TRUE(begin > previous_begin || (begin == previous_begin && windows[k].size() > windows[k - 1].size()));
      }
      previous_begin = begin;
    }
    const auto contains = [&](std::string_view passage) {
      for (std::string_view window : windows) {
        if (window.find(passage) != std::string_view::npos) return true;
      }
      return false;
    };
    for (const std::string& sentence : sentences) {
      const int words = CountWords(sentence);
      if (words >= kShortSentenceWords && words <= n) {
        EXPECT_NE(std::find(windows.begin(), windows.end(), sentence), windows.end()) << "trial " << trial;
      } else if (words < kShortSentenceWords) {
        const bool nearly_alone = std::any_of(windows.begin(), windows.end(), [&](std::string_view window) {
          return window.find(sentence) != std::string_view::npos && CountWords(window) <= 2 * kShortSentenceWords - 2;
        });
        EXPECT_TRUE(nearly_alone) << "trial " << trial << ": " << sentence;
      }
    }
    const std::vector<std::string_view> words = SplitWords(text);
    for (size_t i = 0; i + 9 <= words.size(); ++i) {
      const std::string_view first = words[i], last = words[i + 8];
      const std::string_view passage(first.data(), last.data() + last.size() - first.data());
      EXPECT_TRUE(contains(passage)) << "trial " << trial << ": " << passage;
    }
  }
}

TEST(WordWindows, OneWordLinesDoNotCostAWindowEach) {
  // 20,000 one-word sentences (distinct words, so no window repeats another).
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "w" + std::to_string(i) + (i % 2 ? ".\n" : "\n");
  for (const int n : {16, 64, 4096}) {
    const std::vector<std::string_view> windows = WordWindows(text, n);
    size_t words = 0;
    for (std::string_view window : windows) words += SplitWords(Join(SplitOnNewlines(window), " ")).size();
    // Groups of eight sentences, and runs of n words every n / 2 words: three times the text.
    EXPECT_LE(words, 3u * 20000 + n) << n;
    EXPECT_GE(words, 3u * 20000 - n) << n;
    EXPECT_LE(windows.size(), 20000u / 8 + 2u * 20000 / n + 2) << n;
  }
}

TEST(WordWindows, UnicodeSpacesSeparateWords) {
  // Padding joined by no-break or ideographic spaces is still words, so windows find the
  // sentence in it; the windows never start or end inside a separator.
  for (const std::string separator : {"\u00A0", "\u2002", "\u200B", "\u202F", "\u3000", "\uFEFF"}) {
    std::vector<std::string> words(30, "calm");
    words[29] = "calm.";
    const std::string harmful = "I will KILL you" + separator + "and your whole family" + separator + "tonight.";
    const std::string text = Join(words, separator) + separator + harmful;
    const std::vector<std::string> windows = AsStrings(WordWindows(text, 16));
    EXPECT_NE(std::find(windows.begin(), windows.end(), harmful), windows.end()) << separator;
    for (const std::string& window : windows) {
      EXPECT_NE(window.substr(0, separator.size()), separator);
      EXPECT_NE(window.substr(window.size() - separator.size()), separator);
    }
  }
}

TEST(WordWindows, CjkSentencesEndWithoutASpace) {
  // Twenty sentences of one unspaced "word" each (the last with a closing bracket): groups
  // of eight sentences, each starting and ending on a sentence.
  std::string text;
  std::vector<std::string> sentences;
  for (int i = 0; i < 20; ++i) {
    sentences.push_back(i == 19 ? "\u4ED6\u8BF4\u300C\u8D70\uFF01\u300D" : "\u6211\u4EEC" + std::to_string(i) + "\u3002");
    text += sentences.back();
  }
  const std::vector<std::string> windows = AsStrings(WordWindows(text, 16));
  EXPECT_NE(std::find(windows.begin(), windows.end(), Join(std::vector<std::string>(sentences.begin(), sentences.begin() + 8), "")),
            windows.end());
  EXPECT_NE(std::find(windows.begin(), windows.end(), Join(std::vector<std::string>(sentences.begin() + 16, sentences.end()), "")),
            windows.end());
  // U+2026 and the CJK marks end a word: no window starts or ends inside a character.
  for (const std::string& window : windows) {
    EXPECT_NE(static_cast<unsigned char>(window.front()) & 0xC0, 0x80);
    EXPECT_TRUE(window.size() == text.size() || text.find(window) != std::string::npos);
  }
}

TEST(ScoreWithWindows, AHarmfulSentenceInsideNeutralTextKeepsItsScore) {
  ShareOfKillClassifier classifier;
  const std::string harmful = "I KILL KILL KILL.";
  const std::string text = Neutral(6, 12) + " " + harmful + " " + Neutral(6, 12);
  absl::StatusOr<CategoryScores> whole = ScoreWithWindows(classifier, text, 0);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_LT(whole->scores[kViolence], 0.03f);  // diluted: 3 of 148 words
  ASSERT_EQ(classifier.batch_sizes.back(), 1u);

  absl::StatusOr<CategoryScores> windowed = ScoreWithWindows(classifier, text, 16);
  ASSERT_TRUE(windowed.ok()) << windowed.status();
  EXPECT_FLOAT_EQ(windowed->scores[kViolence], 0.75f);  // the harmful sentence alone
  // One call: the whole text and its (fewer than 64) distinct windows; the neutral
  // sentences are all the same.
  const std::vector<std::string> windows = AsStrings(WordWindows(text, 16));
  EXPECT_EQ(classifier.batch_sizes.size(), 2u);
  EXPECT_EQ(classifier.batch_sizes.back(), 1 + std::set<std::string>(windows.begin(), windows.end()).size());
}

TEST(ScoreWithWindows, AShortTextIsScoredOnceAndAsBefore) {
  ShareOfKillClassifier classifier;
  absl::StatusOr<CategoryScores> scores = ScoreWithWindows(classifier, "calm KILL.", 64);
  ASSERT_TRUE(scores.ok());
  EXPECT_FLOAT_EQ(scores->scores[kViolence], 0.5f);
  EXPECT_EQ(classifier.batch_sizes, std::vector<size_t>{1});
}

TEST(ScoreWithWindows, WindowsGoInBatchesAndTheCallerMayStopBetweenThem) {
  ShareOfKillClassifier classifier;
  std::vector<std::string> words;
  for (int i = 0; i < 2000; ++i) words.push_back("w" + std::to_string(i) + (i % 10 == 9 ? "." : ""));
  const std::string text = Join(words, " ");
  const size_t windows = WordWindows(text, 16).size();
  ASSERT_GT(windows, 3u * 64);
  int checks = 0;
  absl::StatusOr<CategoryScores> all = ScoreWithWindows(classifier, text, 16, [&] {
    ++checks;
    return absl::OkStatus();
  });
  ASSERT_TRUE(all.ok()) << all.status();
  size_t scored = 0;
  for (const size_t size : classifier.batch_sizes) {
    EXPECT_LE(size, 64u);
    scored += size;
  }
  EXPECT_EQ(scored, 1 + windows);
  EXPECT_EQ(checks, static_cast<int>(classifier.batch_sizes.size()));

  classifier.batch_sizes.clear();
  checks = 0;
  absl::StatusOr<CategoryScores> stopped = ScoreWithWindows(classifier, text, 16, [&] {
    return ++checks == 2 ? absl::DeadlineExceededError("over budget") : absl::OkStatus();
  });
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(classifier.batch_sizes.size(), 2u);  // nothing scored after the error
}

TEST(ScoreWithWindows, RepeatedWindowsAreScoredOnce) {
  // A hostile text of one line over and over: its windows are the same few texts.
  ShareOfKillClassifier classifier;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "a b c.\n";
  ASSERT_TRUE(ScoreWithWindows(classifier, text, 64).ok());
  size_t scored = 0;
  for (const size_t size : classifier.batch_sizes) scored += size;
  EXPECT_LE(scored, 10u);
}

class FailingClassifier : public Classifier {
 public:
  explicit FailingClassifier(absl::StatusOr<std::vector<CategoryScores>> result) : result_(std::move(result)) {}
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(absl::Span<const std::string_view>) const override {
    return result_;
  }
  std::string name() const override { return "failing"; }

 private:
  absl::StatusOr<std::vector<CategoryScores>> result_;
};

TEST(ScoreWithWindows, ErrorsAndBrokenScoresReachTheCaller) {
  const std::string text = Neutral(5, 10);
  EXPECT_EQ(ScoreWithWindows(FailingClassifier(absl::UnavailableError("down")), text, 16).status().code(),
            absl::StatusCode::kUnavailable);
  // Fewer scores than texts.
  EXPECT_EQ(ScoreWithWindows(FailingClassifier(std::vector<CategoryScores>(1)), text, 16).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(ScoreWithWindows(FailingClassifier(std::vector<CategoryScores>(1)), text, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Scores `value` for violence in every window (not the whole text, the first text of a call).
class BrokenWindowsClassifier : public Classifier {
 public:
  explicit BrokenWindowsClassifier(float value) : value_(value) {}
  absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(absl::Span<const std::string_view> texts) const override {
    std::vector<CategoryScores> out(texts.size());
    for (size_t i = 1; i < texts.size(); ++i) out[i].scores[kViolence] = value_;
    return out;
  }
  std::string name() const override { return "broken"; }

 private:
  float value_;
};

TEST(ScoreWithWindows, ANonFiniteScoreInAWindowIsNotDroppedByTheMaximum) {
  for (const float broken : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::infinity()}) {
    absl::StatusOr<CategoryScores> scores = ScoreWithWindows(BrokenWindowsClassifier(broken), Neutral(5, 10), 16);
    ASSERT_TRUE(scores.ok());
    EXPECT_FALSE(std::isfinite(scores->scores[kViolence])) << broken;
  }
}

}  // namespace
}  // namespace warden::moderation
