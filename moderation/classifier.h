// The interface every text classifier of the moderation pipeline implements.
#ifndef WARDEN_MODERATION_CLASSIFIER_H_
#define WARDEN_MODERATION_CLASSIFIER_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "moderation/taxonomy.h"

namespace warden::moderation {

// Scores of one text: scores[i] in [0, 1] belongs to kCategories[i]. `rationale` is an
// optional short explanation (e.g. from an LLM classifier); it may quote the text, so it
// must not be logged.
struct CategoryScores {
  std::array<float, kNumCategories> scores{};
  std::string rationale;
};

// Turns texts into per-category scores.
//
// Thread safety: implementations are immutable after construction (or synchronise
// internally), so ScoreBatch may be called from many threads at once.
class Classifier {
 public:
  virtual ~Classifier() = default;

  // One CategoryScores per text, in order. Errors are values (e.g. DeadlineExceeded from a
  // backend); an implementation never throws or aborts on any input text.
  virtual absl::StatusOr<std::vector<CategoryScores>> ScoreBatch(
      absl::Span<const std::string_view> texts) const = 0;

  // Short identifier for logs and audit records, e.g. "fast:default-v1".
  virtual std::string name() const = 0;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_CLASSIFIER_H_
