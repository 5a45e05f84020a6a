// The adapter through which the LLM policy classifier reaches the gpt-oss engine: the one
// place in moderation/ that depends on model/.
#ifndef WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_
#define WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_

#include <algorithm>
#include <cstddef>

#include "model/engine.h"
#include "model/tokenizer/tokenizer.h"
#include "moderation/llm_backend.h"

namespace warden::moderation {

// Thread-safe (the engine serialises its own calls). Does not own the engine or the
// tokenizer; both must outlive the backend and every PrefixHandle it returned.
class EngineLlmBackend : public LlmBackend {
 public:
  static constexpr size_t kPrefillChunkTokens = 512;

  // `prefill_chunk_tokens` (at least 1) is a parameter for tests.
  EngineLlmBackend(model::Engine* engine, const model::Tokenizer* tokenizer,
                   size_t prefill_chunk_tokens = kPrefillChunkTokens)
      : engine_(engine), tokenizer_(tokenizer), chunk_tokens_(std::max<size_t>(prefill_chunk_tokens, 1)) {}

  absl::StatusOr<std::vector<uint32_t>> Tokenize(std::string_view text) const override;
  // Keeps the prefix as an engine sequence, released when the handle is destroyed.
  // Prompts are prefilled in chunks of kPrefillChunkTokens (the constructor's
  // prefill_chunk_tokens) with the deadline checked
  // between chunks, so a long policy or text cannot hold the engine past its budget; a
  // prompt that fills the model's context is refused before any work (InvalidArgument).
  absl::StatusOr<std::shared_ptr<const PrefixHandle>> PrefillPrefix(absl::Span<const uint32_t> ids,
                                                                     const Deadline& deadline) const override;
  // Forks the prefix's sequence (a copy of its KV cache), prefills only `content_ids` and
  // returns the softmax probabilities of the labels at the next position.
  absl::StatusOr<std::vector<float>> ScoreLabels(const PrefixHandle& prefix, absl::Span<const uint32_t> content_ids,
                                                 absl::Span<const uint32_t> label_token_ids,
                                                 const Deadline& deadline) const override;
  // Runs up to kMaxBatchSequences contents together, as many as the KV memory free at the
  // start of the group holds: each gets its own fork of the prefix (a copy of its KV cache),
  // and every engine step advances all of them by an equal share of one chunk, so the
  // weights are read once per step for the whole group. The deadline is checked between
  // steps.
  std::vector<absl::StatusOr<std::vector<float>>> ScoreLabelsBatch(
      const PrefixHandle& prefix, absl::Span<const std::vector<uint32_t>> contents,
      absl::Span<const uint32_t> label_token_ids, const Deadline& deadline) const override;

  // Contents run together at most (each holds a copy of the prefix's KV cache meanwhile).
  static constexpr size_t kMaxBatchSequences = 8;

 private:
  // ScoreLabelsBatch for the contents `members` (indices into contents and *results).
  void ScoreGroup(model::SequenceId prefix_sequence, absl::Span<const std::vector<uint32_t>> contents,
                  absl::Span<const size_t> members, absl::Span<const uint32_t> label_token_ids, const Deadline& deadline,
                  std::vector<absl::StatusOr<std::vector<float>>>* results) const;

  model::Engine* engine_;
  const model::Tokenizer* tokenizer_;
  size_t chunk_tokens_;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_
