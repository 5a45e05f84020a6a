// The adapter through which the LLM policy classifier reaches the gpt-oss engine: the one
// place in moderation/ that depends on model/.
#ifndef WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_
#define WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_

#include "model/engine.h"
#include "model/tokenizer/tokenizer.h"
#include "moderation/llm_backend.h"

namespace warden::moderation {

// Thread-safe (the engine serialises its own calls). Does not own the engine or the
// tokenizer; both must outlive the backend and every PrefixHandle it returned.
class EngineLlmBackend : public LlmBackend {
 public:
  EngineLlmBackend(model::Engine* engine, const model::Tokenizer* tokenizer)
      : engine_(engine), tokenizer_(tokenizer) {}

  absl::StatusOr<std::vector<uint32_t>> Tokenize(std::string_view text) const override;
  // Keeps the prefix as an engine sequence, released when the handle is destroyed.
  absl::StatusOr<std::shared_ptr<const PrefixHandle>> PrefillPrefix(absl::Span<const uint32_t> ids) const override;
  // Forks the prefix's sequence (a copy of its KV cache), prefills only `content_ids` and
  // returns the softmax probabilities of the labels at the next position.
  absl::StatusOr<std::vector<float>> ScoreLabels(const PrefixHandle& prefix, absl::Span<const uint32_t> content_ids,
                                                 absl::Span<const uint32_t> label_token_ids,
                                                 absl::Time deadline) const override;

 private:
  model::Engine* engine_;
  const model::Tokenizer* tokenizer_;
};

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_ENGINE_LLM_BACKEND_H_
