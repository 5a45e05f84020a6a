#include "moderation/engine_llm_backend.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

// An engine sequence holding a prefilled prefix; released with the handle.
class EnginePrefix : public PrefixHandle {
 public:
  EnginePrefix(model::Engine* engine, model::SequenceId sequence, size_t tokens)
      : engine_(engine), sequence_(sequence), tokens_(tokens) {}
  ~EnginePrefix() override { (void)engine_->ReleaseSequence(sequence_); }
  size_t num_tokens() const override { return tokens_; }
  model::SequenceId sequence() const { return sequence_; }

 private:
  model::Engine* engine_;
  model::SequenceId sequence_;
  size_t tokens_;
};

std::vector<int32_t> ToEngineIds(absl::Span<const uint32_t> ids) { return std::vector<int32_t>(ids.begin(), ids.end()); }

}  // namespace

absl::StatusOr<std::vector<uint32_t>> EngineLlmBackend::Tokenize(std::string_view text) const {
  return tokenizer_->EncodeOrdinary(text);
}

absl::StatusOr<std::shared_ptr<const PrefixHandle>> EngineLlmBackend::PrefillPrefix(
    absl::Span<const uint32_t> ids) const {
  if (ids.empty()) return absl::InvalidArgumentError("empty prefix");
  const model::SequenceId sequence = engine_->CreateSequence();
  auto prefix = std::make_shared<EnginePrefix>(engine_, sequence, ids.size());
  const std::vector<int32_t> engine_ids = ToEngineIds(ids);
  RETURN_IF_ERROR(engine_->Prefill(sequence, engine_ids).status());
  return std::shared_ptr<const PrefixHandle>(std::move(prefix));
}

absl::StatusOr<std::vector<float>> EngineLlmBackend::ScoreLabels(const PrefixHandle& prefix,
                                                                 absl::Span<const uint32_t> content_ids,
                                                                 absl::Span<const uint32_t> label_token_ids,
                                                                 absl::Time deadline) const {
  const auto* engine_prefix = dynamic_cast<const EnginePrefix*>(&prefix);
  if (engine_prefix == nullptr) return absl::InvalidArgumentError("prefix from another backend");
  if (content_ids.empty()) return absl::InvalidArgumentError("empty content");
  if (absl::Now() > deadline) return absl::DeadlineExceededError("LLM policy classifier budget spent before start");
  ASSIGN_OR_RETURN(const model::SequenceId fork, engine_->ForkSequence(engine_prefix->sequence()));
  const std::vector<int32_t> engine_ids = ToEngineIds(content_ids);
  auto logits = engine_->Prefill(fork, engine_ids);
  (void)engine_->ReleaseSequence(fork);
  if (!logits.ok()) return logits.status();
  if (absl::Now() > deadline) return absl::DeadlineExceededError("LLM policy classifier exceeded its budget");
  const std::vector<float>& row = *logits;
  const float max_logit = *std::max_element(row.begin(), row.end());
  double total = 0.0;
  for (float logit : row) total += std::exp(static_cast<double>(logit) - max_logit);
  std::vector<float> probabilities;
  for (uint32_t label : label_token_ids) {
    if (label >= row.size()) return absl::InvalidArgumentError(absl::StrCat("label token ", label, " out of range"));
    probabilities.push_back(static_cast<float>(std::exp(static_cast<double>(row[label]) - max_logit) / total));
  }
  return probabilities;
}

}  // namespace warden::moderation
