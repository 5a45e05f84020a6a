// Continuous batching over one Engine: requests join and leave a running batch at any
// step, and every step is ONE Engine::Step holding a decode token for each running
// sequence plus a bounded chunk of prompt (prefill) for newly admitted ones.
//
// Callbacks and back-pressure: each generated token is handed to the request's callback on
// a delivery thread (one per running slot), never on the engine loop and never with a lock
// held. While a sequence's callback has not returned, that sequence sits out of the batch
// (it is paused) and every other sequence keeps decoding, so one slow consumer (a client
// whose hold-back queue is full) stalls only its own generation. A callback returning false
// stops its sequence: no further token of it is computed.
//
// Prefix cache: a request with GenerateOptions::cache_prefix_tokens = N > 0 has its first
// N prompt tokens' KV state kept (bounded by SchedulerOptions::prefix_cache_bytes, least
// recently used evicted, and dropped when a running sequence needs the KV memory); later
// prompts starting with a cached prefix prefill only the rest.
// GenerateResult::cached_prompt_tokens reports how many prompt tokens were reused.
//
// KV memory: a queued request starts only when its prompt's KV cache fits the memory that
// is spare (cached prefixes count as spare) beside what running prompts still need. When a
// running sequence cannot grow its KV cache while other sequences hold memory, it is
// preempted instead of failed: its KV state is dropped and it waits at the queue's front
// to be recomputed (prompt plus the tokens it had generated) once memory is spare, then
// goes on where it stopped (its callback sees no gap; GenerateResult::preemptions counts
// it). Only a sequence that runs out alone fails, with RESOURCE_EXHAUSTED.
//
// Failed steps: a step that fails part-way (a kernel error after some rows were stored)
// leaves every sequence in it with unusable KV state (Engine::SequenceLost); each is
// recomputed the same way as a preempted one, once per request (counted in
// GenerateResult::failed_step_recoveries, not as a preemption); a request whose state is
// lost a second time fails with INTERNAL naming the cause. A step refused before any work
// (validation, KV budget) is retried per sequence, so one sequence's refusal fails only it.
//
// Thread safety: Submit and every GenerationHandle method are thread-safe. Callbacks for
// one request run one at a time, in token order, on scheduler-owned threads; they must not
// call Wait() on their own handle.
// Ownership: the Scheduler borrows the engine (which must outlive it) and owns its loop
// and delivery threads; destroying it finishes unfinished requests with CANCELLED after
// their in-flight callbacks return. Handles are shared with the caller and may outlive it.
#ifndef WARDEN_MODEL_SCHEDULER_H_
#define WARDEN_MODEL_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "model/engine.h"

namespace warden::model {

class PrefixCache;

struct SchedulerOptions {
  int max_running = 8;              // sequences in the batch at once (and delivery threads)
  int max_queued = 256;             // admitted-later requests; Submit beyond fails
  // Prompt tokens per step, over all prefilling requests, while some sequence is decoding
  // (bounds the pause a prefill puts into running streams) ...
  int prefill_chunk_tokens = 256;
  // ... and when every sequence in the step is prefilling (nobody waits; bigger products
  // keep the matrix units busy and expand each expert's weights fewer times).
  int prefill_only_chunk_tokens = 1024;
  int64_t prefix_cache_bytes = 256ll << 20;  // 0 disables the prefix cache
};

// The caller's view of one submitted request. Thread-safe; shared by caller and scheduler.
class GenerationHandle {
 public:
  // Blocks until the request has finished and its last callback has returned.
  absl::StatusOr<GenerateResult> Wait();
  bool Done() const;
  // Asks the scheduler to stop the request; it finishes with FinishReason::kCancelled (or
  // normally, if it finished first). Takes effect at the next step; never blocks.
  void Cancel();

 private:
  friend class Scheduler;
  struct Signal;  // the scheduler loop's wake-up, shared so a handle may outlive it
  explicit GenerationHandle(std::shared_ptr<Signal> signal) : signal_(std::move(signal)) {}
  void Finish(absl::StatusOr<GenerateResult> result);
  bool cancel_requested() const;

  std::shared_ptr<Signal> signal_;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  std::optional<absl::StatusOr<GenerateResult>> result_ ABSL_GUARDED_BY(mutex_);
  bool cancel_ = false;  // guarded by signal_->mutex
};

class Scheduler {
 public:
  // INVALID_ARGUMENT when an option is out of range.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(Engine* engine, const SchedulerOptions& options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a generation of up to options.max_tokens tokens after `prompt`; `callback` (may
  // be empty) receives each token, stop tokens included, and returns false to stop.
  // Problems (empty prompt, bad sampling options, a full queue, an engine error) arrive
  // as the handle's Wait() status; Submit itself never blocks on the engine.
  std::shared_ptr<GenerationHandle> Submit(std::vector<int32_t> prompt, const GenerateOptions& options,
                                           TokenCallback callback);

  // Generations waiting for a place in the running batch, and generations in it (a
  // snapshot; for metrics). Thread-safe.
  struct Load {
    size_t queued = 0;
    size_t running = 0;
  };
  Load CurrentLoad() const;

 private:
  struct Request;
  class DeliveryPool;
  struct Batch;
  Scheduler(Engine* engine, const SchedulerOptions& options);
  void Loop();
  bool HasWorkLocked() const;
  bool HeadFitsLocked() const;
  // Out of KV memory: requeues `request` for recomputation and frees its KV cache, unless
  // no other started sequence holds memory (then false, nothing changed). Engine loop only.
  bool Preempt(const std::shared_ptr<Request>& request);
  bool PreemptLocked(const std::shared_ptr<Request>& request);
  void RequeueLocked(const std::shared_ptr<Request>& request);
  // A step failed part-way and lost `request`'s KV state: requeues it for recomputation
  // and frees its sequence, once per request (false the second time: it then fails).
  // Engine loop only.
  bool RestartLost(const std::shared_ptr<Request>& request);
  bool AnyDeliveringLocked() const;
  void AdmitLocked(std::vector<std::shared_ptr<Request>>* finished);
  void BuildBatchLocked(Batch* batch, std::vector<std::shared_ptr<Request>>* finished);
  void StartSequence(Request& request);
  void RunBatch(Batch& batch);
  void AfterToken(const std::shared_ptr<Request>& request, int32_t token);
  void Deliver(const std::shared_ptr<Request>& request, int32_t token);
  void FinishRequest(Request& request, absl::StatusOr<GenerateResult> result);

  Engine* const engine_;
  const SchedulerOptions options_;
  std::shared_ptr<GenerationHandle::Signal> signal_;  // signal_->mutex guards the state below
  std::deque<std::shared_ptr<Request>> queue_;
  std::vector<std::shared_ptr<Request>> running_;
  bool stopping_ = false;
  std::unique_ptr<PrefixCache> prefix_cache_;  // engine loop only
  // The engine loop's per-step buffers, kept so that decode steps do not allocate.
  std::unique_ptr<Batch> step_batch_;
  std::vector<StepOutput> step_outputs_;
  std::vector<absl::Status> step_status_;
  std::vector<bool> step_preempted_;
  std::unique_ptr<DeliveryPool> delivery_;
  std::thread loop_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_SCHEDULER_H_
