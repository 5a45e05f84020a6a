#include "moderation/llm_policy_classifier.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace warden::moderation {
namespace {

absl::StatusOr<uint32_t> SingleToken(const LlmBackend& backend, const std::string& label) {
  ASSIGN_OR_RETURN(const std::vector<uint32_t> ids, backend.Tokenize(label));
  if (ids.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("label \"", label, "\" is ", ids.size(),
                                                   " tokens; labels must be one token"));
  }
  return ids[0];
}

}  // namespace

absl::StatusOr<bool> ParseVerdict(std::string_view final_answer,
                                  const LlmPolicyClassifierOptions& options) {
  const std::string answer(absl::StripAsciiWhitespace(
      absl::string_view(final_answer.data(), final_answer.size())));
  if (answer == options.violation_label) return true;
  if (answer == options.safe_label) return false;
  const nlohmann::json json = nlohmann::json::parse(answer, nullptr, false);
  if (json.is_object()) {
    const auto it = json.find("violation");
    // Compared as JSON values: a number beyond int (4294967296) must not narrow to 0.
    if (it != json.end() && it->is_number_integer()) {
      if (*it == 0) return false;
      if (*it == 1) return true;
    }
  }
  return absl::InvalidArgumentError(
      "LLM policy classifier answer is neither a label nor {\"violation\": 0|1}");
}

absl::StatusOr<std::unique_ptr<LlmPolicyClassifier>> LlmPolicyClassifier::Create(
    std::shared_ptr<const LlmBackend> backend, LlmPolicyClassifierOptions options) {
  if (backend == nullptr) return absl::InvalidArgumentError("LlmPolicyClassifier needs a backend");
  ASSIGN_OR_RETURN(const uint32_t violation_id, SingleToken(*backend, options.violation_label));
  ASSIGN_OR_RETURN(const uint32_t safe_id, SingleToken(*backend, options.safe_label));
  if (violation_id == safe_id) return absl::InvalidArgumentError("labels map to the same token");
  return std::unique_ptr<LlmPolicyClassifier>(
      new LlmPolicyClassifier(std::move(backend), std::move(options), violation_id, safe_id));
}

LlmPolicyClassifier::LlmPolicyClassifier(std::shared_ptr<const LlmBackend> backend,
                                         LlmPolicyClassifierOptions options,
                                         uint32_t violation_id, uint32_t safe_id)
    : backend_(std::move(backend)),
      options_(std::move(options)),
      violation_id_(violation_id),
      safe_id_(safe_id) {}

absl::StatusOr<std::shared_ptr<const PrefixHandle>> LlmPolicyClassifier::PrefixFor(
    std::string_view policy, const Deadline& deadline) const {
  const std::string key(policy);
  {
    absl::MutexLock lock(&mu_);
    for (auto it = prefixes_.begin(); it != prefixes_.end(); ++it) {
      if (it->first != key) continue;
      prefixes_.splice(prefixes_.end(), prefixes_, it);  // most recently used
      return prefixes_.back().second;
    }
  }
  // Prefill outside the lock; two first calls with one policy may both prefill, and the
  // first to finish is kept.
  ASSIGN_OR_RETURN(const std::vector<uint32_t> ids,
                   RenderPolicyPrefix(*backend_, policy, options_.prompt));
  ASSIGN_OR_RETURN(std::shared_ptr<const PrefixHandle> handle, backend_->PrefillPrefix(ids, deadline));
  if (handle == nullptr) return absl::InternalError("backend returned a null prefix");
  // Handles dropped from the cache are destroyed after the lock is released: the last
  // owner's destructor releases the KV cache in the engine, which may wait for its turn.
  std::vector<std::shared_ptr<const PrefixHandle>> dropped;
  absl::MutexLock lock(&mu_);
  return Insert(key, std::move(handle), &dropped);
}

std::shared_ptr<const PrefixHandle> LlmPolicyClassifier::Insert(
    const std::string& policy, std::shared_ptr<const PrefixHandle> handle,
    std::vector<std::shared_ptr<const PrefixHandle>>* dropped) const {
  for (const auto& [key, cached] : prefixes_) {
    if (key != policy) continue;
    dropped->push_back(std::move(handle));
    return cached;
  }
  const size_t bytes = handle->kv_bytes();
  if (bytes > options_.max_cached_prefix_bytes) return handle;
  prefixes_.emplace_back(policy, handle);
  cached_bytes_ += bytes;
  // Entries in use elsewhere stay alive through their shared owners until those finish.
  while (prefixes_.size() > std::max<size_t>(options_.max_cached_prefixes, 1) ||
         cached_bytes_ > options_.max_cached_prefix_bytes) {
    cached_bytes_ -= prefixes_.front().second->kv_bytes();
    dropped->push_back(std::move(prefixes_.front().second));
    prefixes_.pop_front();
  }
  return handle;
}

absl::StatusOr<float> LlmPolicyClassifier::ViolationProbability(std::string_view policy,
                                                                std::string_view text,
                                                                const Deadline& deadline) const {
  ASSIGN_OR_RETURN(const std::shared_ptr<const PrefixHandle> prefix, PrefixFor(policy, deadline));
  ASSIGN_OR_RETURN(const std::vector<uint32_t> content, RenderContent(*backend_, text));
  const uint32_t labels[] = {violation_id_, safe_id_};
  return VerdictFrom(backend_->ScoreLabels(*prefix, content, labels, deadline));
}

std::vector<absl::StatusOr<float>> LlmPolicyClassifier::ViolationProbabilities(std::string_view policy,
                                                                               absl::Span<const std::string> texts,
                                                                               const Deadline& deadline) const {
  std::vector<absl::StatusOr<float>> results(texts.size(), absl::InternalError("not judged"));
  const absl::StatusOr<std::shared_ptr<const PrefixHandle>> prefix = PrefixFor(policy, deadline);
  if (!prefix.ok()) {
    std::fill(results.begin(), results.end(), prefix.status());
    return results;
  }
  // Texts that cannot be rendered get their error; the others are scored together.
  std::vector<std::vector<uint32_t>> contents;
  std::vector<size_t> rendered;
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<std::vector<uint32_t>> content = RenderContent(*backend_, texts[i]);
    if (!content.ok()) {
      results[i] = content.status();
      continue;
    }
    contents.push_back(*std::move(content));
    rendered.push_back(i);
  }
  const uint32_t labels[] = {violation_id_, safe_id_};
  const std::vector<absl::StatusOr<std::vector<float>>> probs =
      backend_->ScoreLabelsBatch(**prefix, contents, labels, deadline);
  for (size_t j = 0; j < rendered.size(); ++j) {
    results[rendered[j]] = j < probs.size() ? VerdictFrom(probs[j])
                                            : absl::InternalError("backend returned too few results");
  }
  return results;
}

absl::StatusOr<float> LlmPolicyClassifier::VerdictFrom(const absl::StatusOr<std::vector<float>>& probs) const {
  if (!probs.ok()) return probs.status();
  if (probs->size() != 2) {
    return absl::InternalError(absl::StrCat("backend returned ", probs->size(),
                                            " label probabilities, expected 2"));
  }
  const float violation = (*probs)[0], safe = (*probs)[1];
  if (!std::isfinite(violation) || !std::isfinite(safe) || violation < 0 || safe < 0) {
    return absl::InternalError("backend returned invalid label probabilities");
  }
  if (violation + safe < options_.min_label_mass) {
    return absl::FailedPreconditionError(absl::StrCat(
        "LLM policy classifier did not answer with a policy label (the policy must ask for a one-token answer: ",
        options_.violation_label, " if the content violates it, ", options_.safe_label, " if not)"));
  }
  return violation / (violation + safe);
}

}  // namespace warden::moderation
