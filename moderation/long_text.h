// Scoring long texts in windows (sentences, and overlapping runs of words) as well as
// whole, so that a short harmful passage inside long neutral text is not diluted away.
//
// Why: the fast classifier computes one score over the whole text with a length
// normalisation, so neutral text around a short harmful text lowers its scores and a
// paragraph hides it (MODEL_CARD.md, "Long texts": average recall 0.55 -> 0.05 with a
// ~110-word paragraph). A model's answer is usually long, which makes this the common case
// for output moderation. Taking each category's maximum over windows finds the passage
// again, at the cost of more false positives on long texts whose one harmful-sounding
// sentence is not harmful in context (measured in MODEL_CARD.md, "Long texts"), so it is a
// setting, off by default. Sentences are windows of their own because a harmful sentence
// scored with neutral ones around it is diluted again: runs of 32 words alone brought the
// recall back only to 0.23, with the sentences to 0.44-0.56. Runs of whole sentences around
// each sentence as well found no more (and cost about twice the time of these windows).
//
// Cost: linear in the text. The windows hold about three times the text's words, and there
// are at most about words / 4 + words / (N / 2) of them (short sentences are grouped, see
// WordWindows), because each scored text has a fixed cost besides its words: one window
// per one-word line made a 1 MiB text cost seconds. Windows are scored in batches, and the
// caller may stop between batches (ScoreWithWindows' `keep_going`).
//
// Thread safety: pure functions; the classifier must be safe to call concurrently (every
// Classifier is).
#ifndef WARDEN_MODERATION_LONG_TEXT_H_
#define WARDEN_MODERATION_LONG_TEXT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "moderation/classifier.h"

namespace warden::moderation {

// The window sizes a setting may ask for (0 means off). Below 16 words a window is about as
// short as the texts the model scores least reliably; beyond 4,096 it no longer helps.
inline constexpr int kMinWindowWords = 16;
inline constexpr int kMaxWindowWords = 4096;

// Sentences shorter than this are grouped with their short neighbours (see WordWindows).
inline constexpr int kShortSentenceWords = 8;

// OK for 0 (off) and for a size in [kMinWindowWords, kMaxWindowWords]; InvalidArgument
// naming the bounds otherwise.
absl::Status ValidateWindowWords(int64_t window_words);

// Calls `visit` with each window of `text` that ScoreWithWindows scores besides the whole
// text, as a view into `text` from a window's first word's first byte to its last word's
// last byte; stops at (and returns) the first error `visit` returns. Memory: O(window_words).
//
// A word is a maximal run of characters that are not whitespace (ASCII, or Unicode's:
// U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, and the
// invisible U+180E, U+200B, U+2060, U+FEFF), so a window never splits a UTF-8 character.
// A sentence ends at a word ending in . ! ? or an ellipsis (closing quotes and brackets may
// follow), at a line break, and after a CJK or full-width 。！？ or … even when no space
// follows (CJK text has none). The windows:
//  - every sentence of kShortSentenceWords to `window_words` words alone, so a harmful
//    sentence between neutral ones is scored without them;
//  - consecutive shorter sentences together, a group closing once it holds
//    kShortSentenceWords words or before a longer sentence (so at most
//    2 * kShortSentenceWords - 2 words: a short harmful sentence stays nearly alone, and a
//    text of many one-word lines does not cost one window per line);
//  - runs of `window_words` words over the whole text starting every window_words / 2
//    words, the last ending at the last word, so every passage of up to
//    window_words / 2 + 1 words (a long sentence's, or a few sentences') lies in one.
// None when the text has at most `window_words` words (its whole is its only window) or
// window_words < kMinWindowWords. The same window may be visited twice (a sentence that is
// also a run).
absl::Status ForEachWindow(std::string_view text, int window_words,
                           absl::FunctionRef<absl::Status(std::string_view)> visit);

// ForEachWindow's windows, distinct, ordered by first byte and then length.
std::vector<std::string_view> WordWindows(std::string_view text, int window_words);

// The classifier's scores of `text`, and when the text has more than `window_words` words,
// each category's maximum over the whole text and its windows; the first non-finite score
// (a broken model's NaN or infinity) is kept rather than lost to the maximum, for the caller
// to refuse. window_words 0 scores the whole text only. The whole text and the distinct
// windows go to ScoreBatch in batches of up to 64; `keep_going` is called after each batch,
// and an error from it stops the scoring and is returned (e.g. a time budget). The
// rationale is the whole text's. Errors are the classifier's, `keep_going`'s, or
// InvalidArgument from ValidateWindowWords.
absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words,
                                                absl::FunctionRef<absl::Status()> keep_going);
absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_LONG_TEXT_H_
