#include "moderation/long_text.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

// (absl::StartsWith/EndsWith take absl::string_view, which is not std::string_view in this
// Abseil.)
bool HasAt(std::string_view text, size_t i, std::string_view s) { return text.substr(i, s.size()) == s; }
bool HasSuffix(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Non-ASCII whitespace (Unicode White_Space) and the invisible separators an evasion could
// put between words instead of spaces. Their UTF-8 forms start with 0xC2, 0xE1, 0xE2, 0xE3
// or 0xEF.
constexpr std::string_view kUnicodeLineBreaks[] = {"\u0085", "\u2028", "\u2029"};
constexpr std::string_view kUnicodeSpaces[] = {
    "\u00A0", "\u1680", "\u180E", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005",
    "\u2006", "\u2007", "\u2008", "\u2009", "\u200A", "\u200B", "\u202F", "\u205F", "\u2060",
    "\u3000", "\uFEFF"};

// The length in bytes of the whitespace character at text[i] (0 when there is none);
// `*line_break` becomes true when it is a line break.
size_t SpaceLength(std::string_view text, size_t i, bool* line_break) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) {
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      *line_break = true;
      return 1;
    }
    return c == ' ' || c == '\t' ? 1 : 0;
  }
  if (c != 0xC2 && c != 0xE1 && c != 0xE2 && c != 0xE3 && c != 0xEF) return 0;
  for (const std::string_view space : kUnicodeLineBreaks) {
    if (HasAt(text, i, space)) {
      *line_break = true;
      return space.size();
    }
  }
  for (const std::string_view space : kUnicodeSpaces) {
    if (HasAt(text, i, space)) return space.size();
  }
  return 0;
}

// Sentence-ending marks, and the closing quotes and brackets that may follow them.
constexpr std::string_view kAsciiMarks[] = {".", "!", "?"};
// These end a sentence even without a space after them (CJK text has none).
constexpr std::string_view kUnspacedMarks[] = {"\u2026", "\u3002", "\uFF01", "\uFF1F", "\uFF61"};
constexpr std::string_view kClosers[] = {"\"",     "'",      ")",      "]",      "\u201D", "\u2019",
                                         "\u00BB", "\u300D", "\u300F", "\u300B", "\uFF09"};

// The length of the element of `set` at text[i], 0 when there is none.
template <typename Set>
size_t MatchAt(std::string_view text, size_t i, const Set& set) {
  for (const std::string_view s : set) {
    if (HasAt(text, i, s)) return s.size();
  }
  return 0;
}

// Past the marks and closers that start at text[i].
size_t SkipMarksAndClosers(std::string_view text, size_t i) {
  for (size_t length = 1; length > 0 && i < text.size(); i += length) {
    length = MatchAt(text, i, kAsciiMarks);
    if (length == 0) length = MatchAt(text, i, kUnspacedMarks);
    if (length == 0) length = MatchAt(text, i, kClosers);
  }
  return i;
}

// Whether `word` ends a sentence: it ends with a mark, perhaps followed by closers.
bool EndsSentence(std::string_view word) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const std::string_view closer : kClosers) {
      if (HasSuffix(word, closer)) {
        word.remove_suffix(closer.size());
        stripped = true;
        break;
      }
    }
  }
  const auto ends_with_any = [&](const auto& marks) {
    return std::any_of(std::begin(marks), std::end(marks), [&](std::string_view mark) { return HasSuffix(word, mark); });
  };
  return ends_with_any(kAsciiMarks) || ends_with_any(kUnspacedMarks);
}

// A word's byte offsets [begin, end) into the text.
struct Word {
  size_t begin = 0;
  size_t end = 0;
  bool line_break_before = false;  // between the previous word and this one
};

// Reads the words of a text one at a time (see ForEachWindow for what a word is).
class WordReader {
 public:
  explicit WordReader(std::string_view text) : text_(text) {}

  // The next word; false at the end of the text.
  bool Next(Word* word) {
    word->line_break_before = false;
    while (pos_ < text_.size()) {
      const size_t space = SpaceLength(text_, pos_, &word->line_break_before);
      if (space == 0) break;
      pos_ += space;
    }
    if (pos_ == text_.size()) return false;
    word->begin = pos_;
    bool unused = false;
    while (pos_ < text_.size() && SpaceLength(text_, pos_, &unused) == 0) {
      if (const size_t mark = MatchAt(text_, pos_, kUnspacedMarks); mark > 0) {
        pos_ = SkipMarksAndClosers(text_, pos_ + mark);
        break;
      }
      ++pos_;  // a continuation byte never starts a match above
    }
    word->end = pos_;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool HasMoreWordsThan(std::string_view text, size_t n) {
  WordReader reader(text);
  Word word;
  size_t count = 0;
  while (count <= n && reader.Next(&word)) ++count;
  return count > n;
}

using Visit = absl::FunctionRef<absl::Status(std::string_view)>;

// One pass over a text of more than n words, visiting its windows as their last words are
// read (ForEachWindow). Keeps the last n + 1 words' offsets, the sentence being read and the
// group of short sentences being gathered.
class WindowWalk {
 public:
  WindowWalk(std::string_view text, size_t n, Visit visit)
      : text_(text), n_(n), stride_(std::max<size_t>(1, n / 2)), recent_(n + 1), visit_(visit) {}

  absl::Status Run() {
    WordReader reader(text_);
    Word word;
    size_t count = 0;
    bool previous_ends_sentence = false;
    while (reader.Next(&word)) {
      if (count > 0 && (previous_ends_sentence || word.line_break_before)) RETURN_IF_ERROR(EndSentence());
      RETURN_IF_ERROR(AddWord(word, count++));
      previous_ends_sentence = EndsSentence(text_.substr(word.begin, word.end - word.begin));
    }
    RETURN_IF_ERROR(EndSentence());
    RETURN_IF_ERROR(FlushGroup());
    return VisitWords(count - n_, count);  // the last run ends at the last word
  }

 private:
  // Word number k. The run of n words before it is a window when it starts at a multiple of
  // the stride (the last run, which ends at the text's last word, is added by Run).
  absl::Status AddWord(const Word& word, size_t k) {
    recent_[k % recent_.size()] = word;
    if (sentence_words_++ == 0) sentence_begin_ = word.begin;
    sentence_end_ = word.end;
    if (k >= n_ && (k - n_) % stride_ == 0) return VisitWords(k - n_, k);
    return absl::OkStatus();
  }

  // Words [first, last) of the last n + 1.
  absl::Status VisitWords(size_t first, size_t last) {
    return VisitBytes(recent_[first % recent_.size()].begin, recent_[(last - 1) % recent_.size()].end);
  }
  absl::Status VisitBytes(size_t begin, size_t end) { return visit_(text_.substr(begin, end - begin)); }

  absl::Status EndSentence() {
    const size_t words = sentence_words_;
    sentence_words_ = 0;
    if (words < kShortSentenceWords) {
      if (group_words_ == 0) group_begin_ = sentence_begin_;
      group_end_ = sentence_end_;
      group_words_ += words;
      return group_words_ >= kShortSentenceWords ? FlushGroup() : absl::OkStatus();
    }
    RETURN_IF_ERROR(FlushGroup());
    return words <= n_ ? VisitBytes(sentence_begin_, sentence_end_) : absl::OkStatus();
  }

  absl::Status FlushGroup() {
    if (group_words_ == 0) return absl::OkStatus();
    group_words_ = 0;
    return VisitBytes(group_begin_, group_end_);
  }

  const std::string_view text_;
  const size_t n_;
  const size_t stride_;
  std::vector<Word> recent_;  // word k at k % (n + 1)
  const Visit visit_;
  size_t sentence_words_ = 0, sentence_begin_ = 0, sentence_end_ = 0;
  size_t group_words_ = 0, group_begin_ = 0, group_end_ = 0;
};

// Each category's running maximum; the first non-finite score stays.
void TakeMaximum(const CategoryScores& window, CategoryScores* result) {
  for (int c = 0; c < kNumCategories; ++c) {
    float& best = result->scores[c];
    const float score = window.scores[c];
    if (std::isfinite(best) && (!std::isfinite(score) || score > best)) best = score;
  }
}

// Texts per ScoreBatch call, and how many distinct windows are remembered to skip repeats
// (a text repeating one line has the same windows over and over).
constexpr size_t kTextsPerBatch = 64;
constexpr size_t kRememberedWindows = 4096;

}  // namespace

absl::Status ValidateWindowWords(int64_t window_words) {
  if (window_words == 0 || (window_words >= kMinWindowWords && window_words <= kMaxWindowWords)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("long_text_window_words must be 0 (off) or between ",
                                                 kMinWindowWords, " and ", kMaxWindowWords, ", got ",
                                                 window_words));
}

absl::Status ForEachWindow(std::string_view text, int window_words, Visit visit) {
  if (window_words < kMinWindowWords) return absl::OkStatus();
  const size_t n = static_cast<size_t>(window_words);
  if (!HasMoreWordsThan(text, n)) return absl::OkStatus();
  return WindowWalk(text, n, visit).Run();
}

std::vector<std::string_view> WordWindows(std::string_view text, int window_words) {
  std::vector<std::string_view> windows;
  const absl::Status status = ForEachWindow(text, window_words, [&](std::string_view window) {
    windows.push_back(window);
    return absl::OkStatus();
  });
  (void)status;  // the visitor never fails
  const auto key = [](std::string_view w) { return std::make_pair(w.data(), w.size()); };
  std::sort(windows.begin(), windows.end(), [&](auto a, auto b) { return key(a) < key(b); });
  windows.erase(std::unique(windows.begin(), windows.end(), [&](auto a, auto b) { return key(a) == key(b); }),
                windows.end());
  return windows;
}

absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words,
                                                absl::FunctionRef<absl::Status()> keep_going) {
  RETURN_IF_ERROR(ValidateWindowWords(window_words));
  std::optional<CategoryScores> result;
  std::vector<std::string_view> batch = {text};
  const auto score_batch = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<CategoryScores> scores, classifier.ScoreBatch(batch));
    if (scores.size() != batch.size()) {
      return absl::InternalError(
          absl::StrCat("classifier returned ", scores.size(), " scores for ", batch.size(), " texts"));
    }
    for (CategoryScores& scored : scores) {
      if (!result.has_value()) {
        result = std::move(scored);  // the whole text's, with its rationale
      } else {
        TakeMaximum(scored, &*result);
      }
    }
    batch.clear();
    return keep_going();
  };
  std::unordered_set<std::string_view> remembered;
  RETURN_IF_ERROR(ForEachWindow(text, window_words, [&](std::string_view window) -> absl::Status {
    if (remembered.size() == kRememberedWindows) remembered.clear();
    if (!remembered.insert(window).second) return absl::OkStatus();
    batch.push_back(window);
    return batch.size() < kTextsPerBatch ? absl::OkStatus() : score_batch();
  }));
  if (!batch.empty()) RETURN_IF_ERROR(score_batch());
  return *std::move(result);
}

absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words) {
  return ScoreWithWindows(classifier, text, window_words, [] { return absl::OkStatus(); });
}

}  // namespace warden::moderation
