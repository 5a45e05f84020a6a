// The checks the gateway runs on every text that enters or leaves the model: policy
// filters, then classifiers. The same checks serve Moderate, the unary Generate path and
// the streaming path. Implementations are thread-safe (TextChecks) or owned by one stream
// (StreamChecks).
#ifndef WARDEN_GATEWAY_TEXT_CHECKS_H_
#define WARDEN_GATEWAY_TEXT_CHECKS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/deadline.h"
#include "proto/config.pb.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// The verdict on one whole text.
struct TextVerdict {
  v1::Decision decision;  // action ALLOW / FLAG / REDACT / BLOCK, scores, rules with spans.
  std::string text;       // The text to pass on: redacted when the action is REDACT.
  std::optional<v1::PolicyVerdict> policy_verdict;  // When a written policy was given.
};

// What one streaming step released. `released` has passed every check; nothing else may
// be sent to the client. When `blocked` is true the stream must end now.
struct StreamStep {
  std::string released;
  bool blocked = false;
};

// How a call delivers the model's output, which decides what its StreamChecks release.
enum class OutputDelivery {
  // StreamGenerate: text is released while the model writes, after the policy filters'
  // hold-back (a match longer than its rule's bound is caught only in part) and the
  // classifiers' periodic re-reads of the output so far.
  kStreamed,
  // Generate: nothing is released before Finish(), which checks the whole output as
  // Check() would (no hold-back bound on a match). Push() still scans, only to stop a
  // generation that a rule or the classifiers block early.
  kWhole,
};

// Checks of one output stream, in order. Not thread-safe: owned by the stream's handler.
class StreamChecks {
 public:
  virtual ~StreamChecks() = default;
  // Adds model text; returns what is now cleared for release. Text that might still be
  // part of a match (or whose classification is pending) is held back.
  virtual absl::StatusOr<StreamStep> Push(std::string_view text) = 0;
  // The model finished: final verdict on everything, release of the held tail.
  virtual absl::StatusOr<StreamStep> Finish() = 0;
  // The decision so far (final after Finish()).
  virtual const v1::Decision& decision() const = 0;
};

// Thread-safe; shared by all calls. A policy reload is seen by calls that start after it.
class TextChecks {
 public:
  virtual ~TextChecks() = default;
  // Runs the app's checks for `direction` on `text`. `policy_text` (optional) asks the LLM
  // policy classifier to judge the text against a written policy; that judgement stops at
  // the earlier of `deadline` (the call's) and the app's LLM budget, and fails closed.
  virtual absl::StatusOr<TextVerdict> Check(const v1::App& app, v1::Direction direction, std::string_view text,
                                            std::string_view policy_text = {},
                                            const Deadline& deadline = Deadline()) const = 0;
  // Check for each of `texts` (a Moderate request's batch), in order; an error is that
  // text's only. With a `policy_text`, an implementation may judge all texts against it
  // together, within the LLM budget of all of them (the app's budget times the number of
  // texts, never past `deadline`); the default checks them one by one.
  virtual std::vector<absl::StatusOr<TextVerdict>> CheckMany(const v1::App& app, v1::Direction direction,
                                                             absl::Span<const std::string> texts,
                                                             std::string_view policy_text = {},
                                                             const Deadline& deadline = Deadline()) const {
    std::vector<absl::StatusOr<TextVerdict>> verdicts;
    verdicts.reserve(texts.size());
    for (const std::string& text : texts) verdicts.push_back(Check(app, direction, text, policy_text, deadline));
    return verdicts;
  }
  // Checks of one output stream, delivered as `delivery` says. Its LLM stage (escalated
  // categories) stops at the earlier of `deadline` (the call's) and the app's LLM budget,
  // like Check's.
  virtual absl::StatusOr<std::unique_ptr<StreamChecks>> StartOutputStream(const v1::App& app,
                                                                          OutputDelivery delivery,
                                                                          const Deadline& deadline) const = 0;
  // The checks one call uses for all its texts: the policies in force now, kept for the
  // whole call even if a reload happens meanwhile, so that its record's policy_version is
  // what decided every text of it. Valid while this object lives. The default: this object.
  virtual std::shared_ptr<const TextChecks> ForCall() const {
    return std::shared_ptr<const TextChecks>(std::shared_ptr<const TextChecks>(), this);  // Not owning.
  }
  // The version (content hash) of the policy configuration in force.
  virtual std::string policy_version() const = 0;
  // Name and version of the classifier model, for Moderate responses.
  virtual std::string classifier_name() const = 0;
};

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_TEXT_CHECKS_H_
