// Unit-level fakes of the gateway's interfaces (checks and model), for call-path tests.
#ifndef WARDEN_TESTS_GATEWAY_FAKES_H_
#define WARDEN_TESTS_GATEWAY_FAKES_H_

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gateway/model_runner.h"
#include "gateway/text_checks.h"

namespace warden::gateway::testing {

// Blocks any text containing "BAD", redacts "secret" to "[SECRET]". Streams hold back the
// last 5 bytes (the longest pattern minus one) so split matches are caught.
class FakeChecks : public TextChecks {
 public:
  absl::StatusOr<TextVerdict> Check(const v1::App&, v1::Direction, std::string_view text, std::string_view = {},
                                    const Deadline& deadline = Deadline()) const override {
    ++calls;
    last_check_deadline = deadline.time();
    last_check_stop = deadline;
    if (fail || (!fail_on.empty() && text.find(fail_on) != std::string_view::npos)) {
      return absl::InternalError("checker down");
    }
    // As the real LLM stage does when the call's deadline or client goes.
    if (stop_when_reached && deadline.Reached()) return deadline.ReachedError("fake check");
    return Verdict(std::string(text));
  }
  absl::StatusOr<std::unique_ptr<StreamChecks>> StartOutputStream(const v1::App&, OutputDelivery delivery,
                                                                  const Deadline& deadline) const override;
  std::shared_ptr<const TextChecks> ForCall() const override {
    ++for_call;
    return TextChecks::ForCall();
  }
  std::string policy_version() const override { return "v-test"; }
  std::string classifier_name() const override { return "fake"; }

  static TextVerdict Verdict(const std::string& text) {
    TextVerdict verdict;
    verdict.decision.set_action(v1::ALLOW);
    verdict.text = text;
    if (text.find("STAGEDOWN") != std::string::npos) {  // a stage failed inside the check, closed
      verdict.decision.set_action(v1::BLOCK);
      verdict.decision.set_decided_by(v1::FAILURE);
      verdict.decision.set_message("the LLM policy classifier could not run: no label");
      verdict.text.clear();
    } else if (text.find("STAGEOPEN") != std::string::npos) {  // the same, the app failing open
      verdict.decision.set_decided_by(v1::FAILURE);
      verdict.decision.set_fail_open(true);
    } else if (text.find("BAD") != std::string::npos) {
      verdict.decision.set_action(v1::BLOCK);
      verdict.decision.set_message("blocked by fake");
      auto* rule = verdict.decision.add_rules();
      rule->set_rule_id("fake.bad");
      rule->set_action(v1::BLOCK);
      verdict.text.clear();
    } else if (text.find("secret") != std::string::npos) {
      verdict.decision.set_action(v1::REDACT);
      auto* rule = verdict.decision.add_rules();
      rule->set_rule_id("fake.secret");
      rule->set_action(v1::REDACT);
      verdict.text = absl::StrReplaceAll(text, {{"secret", "[SECRET]"}});
    }
    return verdict;
  }

  mutable std::atomic<int> calls{0};
  mutable std::atomic<int> for_call{0};  // ForCall() calls: one per Generate/Moderate call.
  // The deadlines the call path passed (written by the call's thread; read after it).
  mutable absl::Time last_check_deadline;
  mutable absl::Time stream_deadline;
  mutable Deadline last_check_stop;  // With the call's cancellation.
  mutable Deadline stream_stop;
  mutable OutputDelivery stream_delivery = OutputDelivery::kStreamed;
  bool fail = false;
  bool stop_when_reached = false;  // Check fails with the deadline's ReachedError once it is reached.
  std::string fail_on;  // Non-empty: Check fails on texts containing it.
};

// Its final check fails once the call's deadline is reached (time or a client gone), as
// the real checks' LLM stage does.
class FakeStreamChecks : public StreamChecks {
 public:
  explicit FakeStreamChecks(Deadline deadline) : deadline_(std::move(deadline)) {}
  absl::StatusOr<StreamStep> Push(std::string_view text) override {
    pending_ += std::string(text);
    return Step(false);
  }
  absl::StatusOr<StreamStep> Finish() override {
    if (deadline_.Reached()) return deadline_.ReachedError("fake final check");
    return Step(true);
  }
  const v1::Decision& decision() const override { return decision_; }

 private:
  StreamStep Step(bool final) {
    StreamStep step;
    const TextVerdict verdict = FakeChecks::Verdict(pending_);
    if (verdict.decision.action() == v1::BLOCK) {
      decision_ = verdict.decision;
      step.blocked = true;
      return step;
    }
    // Release everything but a tail that could start a match.
    const size_t keep = final ? 0 : std::min<size_t>(pending_.size(), 5);
    std::string ready = pending_.substr(0, pending_.size() - keep);
    pending_ = pending_.substr(pending_.size() - keep);
    const TextVerdict cleared = FakeChecks::Verdict(ready);
    if (cleared.decision.action() == v1::REDACT) decision_ = cleared.decision;
    step.released = cleared.text;
    if (decision_.action() == v1::ACTION_UNSPECIFIED) decision_.set_action(v1::ALLOW);
    return step;
  }
  const Deadline deadline_;
  std::string pending_;
  v1::Decision decision_;
};

inline absl::StatusOr<std::unique_ptr<StreamChecks>> FakeChecks::StartOutputStream(const v1::App&,
                                                                                     OutputDelivery delivery,
                                                                                     const Deadline& deadline) const {
  stream_deadline = deadline.time();
  stream_stop = deadline;
  stream_delivery = delivery;
  return std::unique_ptr<StreamChecks>(new FakeStreamChecks(deadline));
}

// Emits the configured pieces on its own thread, one per "engine step".
class FakeRunner : public ModelRunner {
 public:
  struct Job : GenerationJob {
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> cancelled{false};
    std::atomic<int>* cancels = nullptr;
    absl::StatusOr<GenerationSummary> result;
    ~Job() override {
      if (thread.joinable()) thread.join();
    }
    bool Done() const override { return done; }
    void Cancel() override {
      cancelled = true;
      ++*cancels;
    }
    absl::StatusOr<GenerationSummary> Wait() override {
      if (thread.joinable()) thread.join();
      return result;
    }
  };

  std::unique_ptr<GenerationJob> Start(GenerationInput input, EventSink sink) override {
    ++starts;
    last_input = input;
    auto job = std::make_unique<Job>();
    Job* raw = job.get();
    raw->cancels = &cancels;
    raw->thread = std::thread([this, raw, sink] {
      GenerationSummary summary;
      summary.prompt_tokens = 10;
      summary.preemptions = preemptions;
      summary.format_error = format_error;
      // Prefill: steps without events, stopped only by Cancel().
      for (int i = 0; i < prefill_steps && !raw->cancelled; ++i) {
        ++steps;
        std::this_thread::sleep_for(step_delay);
      }
      for (const GenerationEvent& event : events) {
        if (raw->cancelled) break;
        ++summary.completion_tokens;
        ++steps;
        std::this_thread::sleep_for(step_delay);  // One engine step.
        if (!sink(event)) break;
        ++delivered;
      }
      raw->result = fail_at_end.ok() ? absl::StatusOr<GenerationSummary>(summary) : fail_at_end;
      raw->done = true;
    });
    return job;
  }
  absl::StatusOr<uint32_t> CountPromptTokens(const GenerationInput&) const override { return 10; }
  std::string model_name() const override { return "fake-model"; }

  static GenerationEvent Text(const std::string& text, v1::Channel channel = v1::FINAL) {
    GenerationEvent event;
    event.channel = channel;
    event.text = text;
    return event;
  }

  std::vector<GenerationEvent> events;
  std::chrono::milliseconds step_delay{2};
  int prefill_steps = 0;  // Engine steps before the first event (a long prompt).
  uint32_t preemptions = 0;  // Reported in the summary (the scheduler ran out of KV memory).
  std::string format_error;  // Reported in the summary (the model's output broke harmony).
  absl::Status fail_at_end;  // Not OK: the job ends with this error after its events.
  std::atomic<int> starts{0};
  std::atomic<int> cancels{0};  // Cancel() calls on its jobs.
  std::atomic<int> steps{0};
  std::atomic<int> delivered{0};  // Events the sink accepted.
  GenerationInput last_input;
};

}  // namespace warden::gateway::testing

#endif  // WARDEN_TESTS_GATEWAY_FAKES_H_
