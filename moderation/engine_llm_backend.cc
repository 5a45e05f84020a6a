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
  size_t kv_bytes() const override {
    return static_cast<size_t>(engine_->KvBytesForLength(static_cast<int64_t>(tokens_)));
  }
  model::SequenceId sequence() const { return sequence_; }

 private:
  model::Engine* engine_;
  model::SequenceId sequence_;
  size_t tokens_;
};

// Refuses a prompt of `tokens` (after `held` tokens of a prefix, whose cache the fork for
// the text copies) that leaves no position for the label the classifier reads, or whose KV
// cache could never fit the engine's budget (Engine::CheckPromptFits).
absl::Status CheckContext(const model::Engine& engine, size_t held, size_t tokens, const char* what) {
  const absl::Status fits = engine.CheckPromptFits(static_cast<int64_t>(held + tokens),
                                                   engine.KvBytesForLength(static_cast<int64_t>(held)));
  if (fits.ok()) return fits;
  return absl::Status(fits.code(), absl::StrCat("LLM policy classifier (", what, "): ", fits.message()));
}

// Prefills `ids` into `sequence` chunk by chunk, checking `deadline` before each chunk (the
// engine serves other calls between chunks); returns the last position's logits.
absl::StatusOr<std::vector<float>> PrefillInChunks(model::Engine& engine, model::SequenceId sequence,
                                                   absl::Span<const uint32_t> ids, size_t chunk_tokens,
                                                   const Deadline& deadline, const char* what) {
  std::vector<float> logits;
  for (size_t begin = 0; begin < ids.size(); begin += chunk_tokens) {
    if (deadline.Reached()) {
      return deadline.ReachedError(absl::StrCat("LLM policy classifier stopped after ", begin,
                                                " of the ", what, "'s ", ids.size(), " tokens"));
    }
    const absl::Span<const uint32_t> chunk = ids.subspan(begin, chunk_tokens);
    const std::vector<int32_t> engine_ids(chunk.begin(), chunk.end());
    ASSIGN_OR_RETURN(logits, engine.Prefill(sequence, engine_ids, /*all_positions=*/false,
                                            model::PrefillPrecision(static_cast<int64_t>(ids.size()))));
  }
  return logits;
}

// The softmax probabilities of `labels` under one position's logits.
absl::StatusOr<std::vector<float>> LabelProbabilities(const std::vector<float>& row,
                                                      absl::Span<const uint32_t> labels) {
  if (row.empty()) return absl::InternalError("the model returned no logits");
  const float max_logit = *std::max_element(row.begin(), row.end());
  double total = 0.0;
  for (float logit : row) total += std::exp(static_cast<double>(logit) - max_logit);
  std::vector<float> probabilities;
  for (uint32_t label : labels) {
    if (label >= row.size()) return absl::InvalidArgumentError(absl::StrCat("label token ", label, " out of range"));
    probabilities.push_back(static_cast<float>(std::exp(static_cast<double>(row[label]) - max_logit) / total));
  }
  return probabilities;
}

}  // namespace

absl::StatusOr<std::vector<uint32_t>> EngineLlmBackend::Tokenize(std::string_view text) const {
  return tokenizer_->EncodeOrdinary(text);
}

absl::StatusOr<std::shared_ptr<const PrefixHandle>> EngineLlmBackend::PrefillPrefix(
    absl::Span<const uint32_t> ids, const Deadline& deadline) const {
  if (ids.empty()) return absl::InvalidArgumentError("empty prefix");
  // Every use forks the prefix (a copy of its cache) for at least one token more, while the
  // prefix itself stays held: a prefix without room for that could never be used.
  RETURN_IF_ERROR(CheckContext(*engine_, ids.size(), 1, "policy prompt"));
  const model::SequenceId sequence = engine_->CreateSequence();
  auto prefix = std::make_shared<EnginePrefix>(engine_, sequence, ids.size());  // releases on error
  RETURN_IF_ERROR(PrefillInChunks(*engine_, sequence, ids, chunk_tokens_, deadline, "policy prompt").status());
  return std::shared_ptr<const PrefixHandle>(std::move(prefix));
}

absl::StatusOr<std::vector<float>> EngineLlmBackend::ScoreLabels(const PrefixHandle& prefix,
                                                                 absl::Span<const uint32_t> content_ids,
                                                                 absl::Span<const uint32_t> label_token_ids,
                                                                 const Deadline& deadline) const {
  const auto* engine_prefix = dynamic_cast<const EnginePrefix*>(&prefix);
  if (engine_prefix == nullptr) return absl::InvalidArgumentError("prefix from another backend");
  if (content_ids.empty()) return absl::InvalidArgumentError("empty content");
  RETURN_IF_ERROR(CheckContext(*engine_, prefix.num_tokens(), content_ids.size(), "policy prompt with the text"));
  if (deadline.Reached()) return deadline.ReachedError("LLM policy classifier stopped before start");
  ASSIGN_OR_RETURN(const model::SequenceId fork, engine_->ForkSequence(engine_prefix->sequence()));
  auto logits = PrefillInChunks(*engine_, fork, content_ids, chunk_tokens_, deadline, "text");
  (void)engine_->ReleaseSequence(fork);
  if (!logits.ok()) return logits.status();
  if (deadline.Reached()) return deadline.ReachedError("LLM policy classifier stopped");
  return LabelProbabilities(*logits, label_token_ids);
}

std::vector<absl::StatusOr<std::vector<float>>> EngineLlmBackend::ScoreLabelsBatch(
    const PrefixHandle& prefix, absl::Span<const std::vector<uint32_t>> contents,
    absl::Span<const uint32_t> label_token_ids, const Deadline& deadline) const {
  std::vector<absl::StatusOr<std::vector<float>>> results(contents.size(),
                                                          absl::InternalError("LLM policy classifier: not run"));
  const auto* engine_prefix = dynamic_cast<const EnginePrefix*>(&prefix);
  std::vector<size_t> runnable;
  for (size_t i = 0; i < contents.size(); ++i) {
    if (engine_prefix == nullptr) {
      results[i] = absl::InvalidArgumentError("prefix from another backend");
    } else if (contents[i].empty()) {
      results[i] = absl::InvalidArgumentError("empty content");
    } else if (absl::Status fits = CheckContext(*engine_, prefix.num_tokens(), contents[i].size(),
                                                "policy prompt with the text");
               !fits.ok()) {
      results[i] = fits;
    } else {
      runnable.push_back(i);
    }
  }
  // Groups of at most kMaxBatchSequences whose forks fit the KV memory free now: each fork
  // ends holding the prefix and its text. A group always takes at least one text, which
  // needs no more than a single ScoreLabels call would.
  for (size_t begin = 0; begin < runnable.size();) {
    const int64_t free_bytes = engine_->kv_budget_bytes() - engine_->kv_bytes_in_use();
    int64_t planned = 0;
    size_t end = begin;
    while (end < runnable.size() && end - begin < kMaxBatchSequences) {
      const int64_t bytes = engine_->KvBytesForLength(
          static_cast<int64_t>(prefix.num_tokens() + contents[runnable[end]].size()));
      if (end > begin && planned + bytes > free_bytes) break;
      planned += bytes;
      ++end;
    }
    ScoreGroup(engine_prefix->sequence(), contents, absl::MakeConstSpan(runnable).subspan(begin, end - begin),
               label_token_ids, deadline, &results);
    begin = end;
  }
  return results;
}

void EngineLlmBackend::ScoreGroup(model::SequenceId prefix_sequence, absl::Span<const std::vector<uint32_t>> contents,
                                  absl::Span<const size_t> members, absl::Span<const uint32_t> label_token_ids,
                                  const Deadline& deadline,
                                  std::vector<absl::StatusOr<std::vector<float>>>* results) const {
  struct Member {
    size_t index;                 // into contents and results
    model::SequenceId fork = 0;
    size_t done = 0;              // content tokens prefilled so far
  };
  std::vector<Member> active;
  for (size_t index : members) {
    absl::StatusOr<model::SequenceId> fork = engine_->ForkSequence(prefix_sequence);
    if (!fork.ok()) {
      (*results)[index] = fork.status();
      continue;
    }
    active.push_back({index, *fork, 0});
  }
  std::vector<model::StepInput> inputs;
  std::vector<model::StepOutput> outputs;
  while (!active.empty()) {
    if (deadline.Reached()) {
      for (const Member& m : active) {
        (*results)[m.index] = deadline.ReachedError(absl::StrCat("LLM policy classifier stopped after ",
                                                                 m.done, " of the text's ", contents[m.index].size(),
                                                                 " tokens"));
      }
      break;
    }
    // Every member advances by an equal share of one chunk's rows, so a step stays about
    // as large as one chunk of a single text and the deadline is checked as often.
    const size_t share = std::max<size_t>(1, chunk_tokens_ / active.size());
    inputs.resize(active.size());
    for (size_t i = 0; i < active.size(); ++i) {
      const std::vector<uint32_t>& content = contents[active[i].index];
      const size_t take = std::min(share, content.size() - active[i].done);
      inputs[i].sequence = active[i].fork;
      inputs[i].tokens.assign(content.begin() + active[i].done, content.begin() + active[i].done + take);
      inputs[i].all_logits = false;
      // The text's own precision, not its share's: a verdict must not depend on how many
      // texts are judged together (ScoreLabels prefills it the same way).
      inputs[i].precision = model::PrefillPrecision(static_cast<int64_t>(content.size()));
      active[i].done += take;
    }
    if (const absl::Status status = engine_->Step(inputs, &outputs); !status.ok()) {
      for (const Member& m : active) (*results)[m.index] = status;
      break;
    }
    std::vector<Member> still_active;
    for (size_t i = 0; i < active.size(); ++i) {
      if (active[i].done < contents[active[i].index].size()) {
        still_active.push_back(active[i]);
        continue;
      }
      (*results)[active[i].index] =
          deadline.Reached() ? deadline.ReachedError("LLM policy classifier stopped")
                             : LabelProbabilities(outputs[i].logits, label_token_ids);
      (void)engine_->ReleaseSequence(active[i].fork);
    }
    active.swap(still_active);
  }
  for (const Member& m : active) (void)engine_->ReleaseSequence(m.fork);
}

}  // namespace warden::moderation
