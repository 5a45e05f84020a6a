// The one narrow interface through which the LLM policy classifier reaches a model. The
// lead wires an adapter onto the engine (//model); tests use fakes.
#ifndef WARDEN_MODERATION_LLM_BACKEND_H_
#define WARDEN_MODERATION_LLM_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/deadline.h"
#include "absl/types/span.h"

namespace warden::moderation {

// A prompt prefix whose KV cache the backend has computed and keeps alive as long as the
// handle lives. Immutable; may be shared by concurrent ScoreLabels calls.
class PrefixHandle {
 public:
  virtual ~PrefixHandle() = default;
  virtual size_t num_tokens() const = 0;
  // The memory its KV cache holds while the handle lives (what a cache of handles counts).
  virtual size_t kv_bytes() const = 0;
};

// Thread safety: implementations must allow concurrent calls of every method.
class LlmBackend {
 public:
  virtual ~LlmBackend() = default;

  // Token ids of ordinary text. Special-token strings in `text` (e.g. "<|end|>") must be
  // encoded as plain text, never as special tokens.
  virtual absl::StatusOr<std::vector<uint32_t>> Tokenize(std::string_view text) const = 0;

  // Runs the model over `ids` once and keeps the resulting KV cache. DeadlineExceeded
  // past `deadline` (the prefix is then not kept).
  virtual absl::StatusOr<std::shared_ptr<const PrefixHandle>> PrefillPrefix(
      absl::Span<const uint32_t> ids, const Deadline& deadline) const = 0;

  // Continues from `prefix` with `content_ids` (only these are prefilled) and returns the
  // model's probability of each of `label_token_ids` at the position after the content,
  // in the same order. The prefix is not modified. DeadlineExceeded past `deadline`.
  virtual absl::StatusOr<std::vector<float>> ScoreLabels(const PrefixHandle& prefix,
                                                         absl::Span<const uint32_t> content_ids,
                                                         absl::Span<const uint32_t> label_token_ids,
                                                         const Deadline& deadline) const = 0;

  // ScoreLabels for several contents after the same prefix, one result per content in the
  // same order (an error of one content, e.g. one that does not fit the context, is that
  // content's result only). A backend may run them together, so that the model's weights
  // are read once per step for all of them instead of once per content; the default runs
  // them one after the other.
  virtual std::vector<absl::StatusOr<std::vector<float>>> ScoreLabelsBatch(
      const PrefixHandle& prefix, absl::Span<const std::vector<uint32_t>> contents,
      absl::Span<const uint32_t> label_token_ids, const Deadline& deadline) const {
    std::vector<absl::StatusOr<std::vector<float>>> results;
    results.reserve(contents.size());
    for (const std::vector<uint32_t>& content : contents) {
      results.push_back(ScoreLabels(prefix, content, label_token_ids, deadline));
    }
    return results;
  }
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_LLM_BACKEND_H_
