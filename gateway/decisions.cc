#include "gateway/decisions.h"

#include <string>

namespace warden::gateway {

void MergeDecision(const v1::Decision& part, int text_index, v1::Decision* total) {
  if (total->action() == v1::ACTION_UNSPECIFIED) total->set_action(v1::ALLOW);
  if (part.action() > total->action()) {
    total->set_action(part.action());
    total->set_message(part.message());
    total->set_decided_by(part.decided_by());
  }
  for (const auto& score : part.scores()) {
    v1::CategoryScore* existing = nullptr;
    for (auto& candidate : *total->mutable_scores()) {
      if (candidate.category() == score.category()) existing = &candidate;
    }
    if (existing == nullptr) {
      *total->add_scores() = score;
    } else {
      const bool flagged = existing->flagged() || score.flagged();
      if (score.score() > existing->score()) *existing = score;
      existing->set_flagged(flagged);
    }
  }
  for (const auto& rule : part.rules()) {
    auto* added = total->add_rules();
    *added = rule;
    added->set_text_index(text_index);
  }
  if (part.fail_open()) total->set_fail_open(true);
}

v1::Decision CheckFailureDecision(bool fail_open, const std::string& reason) {
  v1::Decision decision;
  decision.set_decided_by(v1::FAILURE);
  if (fail_open) {
    decision.set_action(v1::ALLOW);
    decision.set_fail_open(true);
  } else {
    decision.set_action(v1::BLOCK);
    decision.set_message("a safety check could not run (" + reason + "); the request was blocked (fail closed)");
  }
  return decision;
}

}  // namespace warden::gateway
