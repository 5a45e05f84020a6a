// Scoring long texts in windows (each sentence, and overlapping runs of words) as well as
// whole, so that a short harmful passage inside long neutral text is not diluted away.
//
// Why: the fast classifier computes one score over the whole text with a length
// normalisation, so one neutral sentence before a short harmful text lowers its scores and
// a paragraph hides it (MODEL_CARD.md, "Evasions": average recall 0.53 -> 0.01). A model's
// answer is usually long, which makes this the common case for output moderation. Taking
// each category's maximum over windows finds the passage again, at the cost of more false
// positives on long texts whose one harmful-sounding sentence is not harmful in context
// (measured in MODEL_CARD.md, "Long texts"), so it is a setting, off by default.
// Sentences are windows of their own because a harmful sentence scored with neutral ones
// around it is diluted again: runs of 32 words alone brought the recall of short harmful
// texts inside a neutral paragraph back only to 0.23 (0.55 without the paragraph), with
// the sentences to 0.44-0.56 (MODEL_CARD.md, "Long texts"). Runs of whole sentences
// around each sentence as well (about twice the time) found no more.
//
// Thread safety: pure functions; the classifier must be safe to call concurrently (every
// Classifier is).
#ifndef WARDEN_MODERATION_LONG_TEXT_H_
#define WARDEN_MODERATION_LONG_TEXT_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "moderation/classifier.h"

namespace warden::moderation {

// The window sizes a setting may ask for (0 means off). Below 16 words a window is about as
// short as the texts the model scores least reliably; beyond 4,096 it no longer helps.
inline constexpr int kMinWindowWords = 16;
inline constexpr int kMaxWindowWords = 4096;

// OK for 0 (off) and for a size in [kMinWindowWords, kMaxWindowWords]; InvalidArgument
// naming the bounds otherwise.
absl::Status ValidateWindowWords(int64_t window_words);

// The windows of `text` that ScoreWithWindows scores besides the whole text, as views
// into `text` from a window's first word's first byte to its last word's last byte, in
// text order and distinct. A word is a maximal run of bytes that are not ASCII whitespace
// (so a window never splits a UTF-8 character); a sentence ends at a word ending in . ! ?
// or an ellipsis (ASCII, CJK or full-width; closing quotes and brackets may follow) and
// at a line break. The windows:
//  - every sentence of at most `window_words` words alone, so a harmful sentence between
//    neutral ones is scored without them;
//  - runs of `window_words` words over the whole text starting every window_words / 2
//    words, the last ending at the last word, so every passage of up to
//    window_words / 2 + 1 words (a long sentence's, or a few sentences') lies in one.
// Together they hold at most about three times the text's words.
// Empty when the text has at most `window_words` words (its whole is its only window)
// or window_words < 2.
std::vector<std::string_view> WordWindows(std::string_view text, int window_words);

// The classifier's scores of `text`, and when the text has more than `window_words` words,
// each category's maximum over the whole text and its WordWindows (one ScoreBatch call).
// window_words 0 scores the whole text only. The rationale is the whole text's. Errors are
// the classifier's, or InvalidArgument from ValidateWindowWords.
absl::StatusOr<CategoryScores> ScoreWithWindows(const Classifier& classifier, std::string_view text,
                                                int window_words);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_LONG_TEXT_H_
