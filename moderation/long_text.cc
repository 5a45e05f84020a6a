#include "moderation/long_text.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace warden::moderation {
namespace {

// [begin, end): a word's byte offsets into the text, or a window's word indices.
using Span = std::pair<size_t, size_t>;

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<Span> WordSpans(std::string_view text) {
  std::vector<Span> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsAsciiSpace(text[i])) ++i;
    if (i == text.size()) break;
    const size_t begin = i;
    while (i < text.size() && !IsAsciiSpace(text[i])) ++i;
    words.emplace_back(begin, i);
  }
  return words;
}

// (absl::EndsWith takes absl::string_view, which is not std::string_view in this Abseil.)
bool HasSuffix(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Whether `word` ends a sentence: it ends with a full stop, question or exclamation mark
// or an ellipsis (ASCII, or the CJK and full-width forms), perhaps followed by closing
// quotes and brackets.
bool EndsSentence(std::string_view word) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const std::string_view closer : {"\"", "'", ")", "]", "\u201D", "\u2019", "\u00BB"}) {
      if (HasSuffix(word, closer)) {
        word.remove_suffix(closer.size());
        stripped = true;
        break;
      }
    }
  }
  for (const std::string_view mark : {".", "!", "?", "\u2026", "\u3002", "\uFF01", "\uFF1F"}) {
    if (HasSuffix(word, mark)) return true;
  }
  return false;
}

// The index of the first word of every sentence (a sentence also ends at a line break).
std::vector<size_t> SentenceStarts(std::string_view text, const std::vector<Span>& words) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string_view gap = text.substr(words[i].second, words[i + 1].first - words[i].second);
    if (EndsSentence(text.substr(words[i].first, words[i].second - words[i].first)) ||
        gap.find('\n') != std::string_view::npos) {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

// Runs of `n` words over the words [first, last) (last - first > n), starting every n / 2
// words, the last one ending at `last` (word index ranges, appended to `runs`).
void AddWordRuns(size_t first, size_t last, size_t n, std::vector<Span>* runs) {
  const size_t stride = std::max<size_t>(1, n / 2);
  size_t begin = first;
  for (; begin + n < last; begin += stride) runs->emplace_back(begin, begin + n);
  runs->emplace_back(last - n, last);
}

// Word ranges of the windows (see WordWindows), sorted, without repeats: every sentence
// of at most n words alone, and runs of n words over the whole text.
std::vector<Span> WindowRuns(std::string_view text, const std::vector<Span>& words, size_t n) {
  const std::vector<size_t> starts = SentenceStarts(text, words);
  std::vector<Span> runs;
  for (size_t s = 0; s < starts.size(); ++s) {
    const size_t end = s + 1 < starts.size() ? starts[s + 1] : words.size();
    if (end - starts[s] <= n) runs.emplace_back(starts[s], end);
  }
  AddWordRuns(0, words.size(), n, &runs);
  std::sort(runs.begin(), runs.end());
  runs.erase(std::unique(runs.begin(), runs.end()), runs.end());
  return runs;
}

}  // namespace

absl::Status ValidateWindowWords(int64_t window_words) {
  if (window_words == 0 || (window_words >= kMinWindowWords && window_words <= kMaxWindowWords)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("long_text_window_words must be 0 (off) or between ",
                                                 kMinWindowWords, " and ", kMaxWindowWords, ", got ",
                                                 window_words));
}

std::vector<std::string_view> WordWindows(std::string_view text, int window_words) {
  std::vector<std::string_view> windows;
  if (window_words < 2) return windows;
  const std::vector<Span> words = WordSpans(text);
  const size_t n = static_cast<size_t>(window_words);
  if (words.size() <= n) return windows;
  const std::vector<Span> runs = WindowRuns(text, words, n);
  windows.reserve(runs.size());
  for (const auto& [first, last] : runs) {
    const size_t begin = words[first].first;
    windows.push_back(text.substr(begin, words[last - 1].second - begin));
  }
  return windows;
}

absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words) {
  if (const absl::Status valid = ValidateWindowWords(window_words); !valid.ok()) return valid;
  std::vector<std::string_view> texts = {text};
  if (window_words > 0) {
    const std::vector<std::string_view> windows = WordWindows(text, window_words);
    texts.insert(texts.end(), windows.begin(), windows.end());
  }
  absl::StatusOr<std::vector<CategoryScores>> scores = classifier.ScoreBatch(texts);
  if (!scores.ok()) return scores.status();
  if (scores->size() != texts.size()) {
    return absl::InternalError(absl::StrCat("classifier returned ", scores->size(), " scores for ", texts.size(),
                                            " texts"));
  }
  CategoryScores result = std::move((*scores)[0]);
  for (size_t i = 1; i < scores->size(); ++i) {
    for (int c = 0; c < kNumCategories; ++c) {
      const float window = (*scores)[i].scores[c];
      // A NaN from a broken model must reach the caller's check, not be dropped by max.
      if (std::isnan(window) || window > result.scores[c]) result.scores[c] = window;
    }
  }
  return result;
}

}  // namespace warden::moderation
