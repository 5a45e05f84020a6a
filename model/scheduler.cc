#include "model/scheduler.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/prefix_cache.h"

namespace warden::model {
namespace {

// How long a step waits for the previous step's token callbacks (see Scheduler::Loop).
// Callbacks that only queue the token take microseconds; a step of a real model takes
// tens of milliseconds.
constexpr std::chrono::milliseconds kDeliveryGrace{2};
// How often a queued request that waits for KV memory looks whether it fits now.
constexpr std::chrono::milliseconds kMemoryRecheck{50};

}  // namespace

struct GenerationHandle::Signal {
  std::mutex mutex;
  std::condition_variable cv;
};

absl::StatusOr<GenerateResult> GenerationHandle::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return result_.has_value(); });
  return *result_;
}

bool GenerationHandle::Done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return result_.has_value();
}

void GenerationHandle::Cancel() {
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    cancel_ = true;
  }
  signal_->cv.notify_all();
}

bool GenerationHandle::cancel_requested() const { return cancel_; }

void GenerationHandle::Finish(absl::StatusOr<GenerateResult> result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (result_.has_value()) return;
    result_ = std::move(result);
  }
  done_cv_.notify_all();
}

// One submitted request. The fields above `delivering` belong to the engine loop (and,
// while `delivering`, to the one delivery task, which only reads them); `delivering` and
// `finish` are guarded by the scheduler's signal mutex.
struct Scheduler::Request {
  std::vector<int32_t> prompt;
  GenerateOptions options;
  TokenCallback callback;
  std::shared_ptr<GenerationHandle> handle;
  std::optional<Sampler> sampler;
  bool started = false;       // has an engine sequence
  SequenceId sequence = 0;
  int64_t processed = 0;      // prompt tokens in the sequence's KV state
  GenerateResult result;
  // Of result.tokens, how many the prompt holds (appended when the request was preempted).
  size_t tokens_in_prompt = 0;
  // Requeued once already because a failed step lost its KV state (RestartLost).
  bool restarted_after_failure = false;

  bool delivering = false;             // a callback is running; the sequence is paused
  std::optional<FinishReason> finish;  // decided after the last token's callback

  bool prefilling() const { return processed < static_cast<int64_t>(prompt.size()); }
};

// Runs token callbacks; one thread per running slot, so a waiting callback never waits
// for a thread. A running request has at most one token in delivery (it sits out the
// steps until its callback returns), so a ring of max_running tasks never fills and
// posting allocates nothing. Thread-safe. Its destructor runs the queued tasks and joins.
class Scheduler::DeliveryPool {
 public:
  DeliveryPool(Scheduler* scheduler, int threads) : scheduler_(scheduler), ring_(threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~DeliveryPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Post(std::shared_ptr<Request> request, int32_t token) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (count_ == ring_.size()) Grow();  // Not expected (see above); stays correct.
      ring_[(head_ + count_) % ring_.size()] = Task{std::move(request), token};
      ++count_;
    }
    cv_.notify_one();
  }

 private:
  struct Task {
    std::shared_ptr<Request> request;
    int32_t token = 0;
  };
  void Grow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    std::vector<Task> bigger(ring_.size() * 2 + 1);
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(ring_[(head_ + i) % ring_.size()]);
    ring_ = std::move(bigger);
    head_ = 0;
  }
  void Work() {
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || count_ > 0; });
        if (count_ == 0) return;
        task = std::move(ring_[head_]);
        head_ = (head_ + 1) % ring_.size();
        --count_;
      }
      scheduler_->Deliver(task.request, task.token);
    }
  }
  Scheduler* const scheduler_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Task> ring_ ABSL_GUARDED_BY(mutex_);
  size_t head_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t count_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_;
};

// One step's work: request i contributes inputs[i].
struct Scheduler::Batch {
  std::vector<std::shared_ptr<Request>> requests;
  // inputs[0, requests.size()) are this step's; later entries are spare, kept with their
  // token vectors so that the next steps reuse them.
  std::vector<StepInput> inputs;

  void Clear() { requests.clear(); }
  // The input of the next request, reusing a spare entry's memory.
  StepInput& Add(std::shared_ptr<Request> request) {
    if (inputs.size() <= requests.size()) inputs.emplace_back();
    requests.push_back(std::move(request));
    return inputs[requests.size() - 1];
  }
  absl::Span<const StepInput> Inputs() const { return absl::MakeConstSpan(inputs.data(), requests.size()); }
};

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(Engine* engine, const SchedulerOptions& options) {
  if (engine == nullptr) return absl::InvalidArgumentError("Scheduler needs an engine");
  if (options.max_running < 1 || options.max_running > 1024) {
    return absl::InvalidArgumentError("SchedulerOptions.max_running must be in [1, 1024]");
  }
  if (options.max_queued < 0) return absl::InvalidArgumentError("SchedulerOptions.max_queued must be >= 0");
  if (options.prefill_chunk_tokens < 1 || options.prefill_only_chunk_tokens < 1) {
    return absl::InvalidArgumentError("SchedulerOptions.prefill_chunk_tokens and prefill_only_chunk_tokens must be >= 1");
  }
  if (options.prefix_cache_bytes < 0) {
    return absl::InvalidArgumentError("SchedulerOptions.prefix_cache_bytes must be >= 0");
  }
  return std::unique_ptr<Scheduler>(new Scheduler(engine, options));
}

Scheduler::Scheduler(Engine* engine, const SchedulerOptions& options)
    : engine_(engine),
      options_(options),
      signal_(std::make_shared<GenerationHandle::Signal>()),
      prefix_cache_(std::make_unique<PrefixCache>(engine, options.prefix_cache_bytes)),
      step_batch_(std::make_unique<Batch>()),
      delivery_(std::make_unique<DeliveryPool>(this, options.max_running)) {
  loop_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    stopping_ = true;
  }
  signal_->cv.notify_all();
  loop_.join();
  delivery_.reset();  // in-flight callbacks return first
  std::vector<std::shared_ptr<Request>> left(running_.begin(), running_.end());
  left.insert(left.end(), queue_.begin(), queue_.end());
  for (auto& request : left) FinishRequest(*request, absl::CancelledError("the scheduler shut down"));
  prefix_cache_.reset();
}

Scheduler::Load Scheduler::CurrentLoad() const {
  std::lock_guard<std::mutex> lock(signal_->mutex);
  return Load{queue_.size(), running_.size()};
}

std::shared_ptr<GenerationHandle> Scheduler::Submit(std::vector<int32_t> prompt, const GenerateOptions& options,
                                                    TokenCallback callback) {
  std::shared_ptr<GenerationHandle> handle(new GenerationHandle(signal_));
  if (prompt.empty()) {
    handle->Finish(absl::InvalidArgumentError("Submit needs a non-empty prompt"));
    return handle;
  }
  if (options.max_tokens < 0) {
    handle->Finish(absl::InvalidArgumentError("GenerateOptions.max_tokens must be >= 0"));
    return handle;
  }
  if (options.cache_prefix_tokens < 0) {
    handle->Finish(absl::InvalidArgumentError("GenerateOptions.cache_prefix_tokens must be >= 0"));
    return handle;
  }
  const SamplingOptions sampling = engine_->ResolveSampling(options);
  if (absl::Status status = ValidateSamplingOptions(sampling); !status.ok()) {
    handle->Finish(status);
    return handle;
  }
  if (options.max_tokens == 0) {
    handle->Finish(GenerateResult{});
    return handle;
  }
  auto request = std::make_shared<Request>();
  request->prompt = std::move(prompt);
  request->options = options;
  request->callback = std::move(callback);
  request->handle = handle;
  request->sampler.emplace(sampling);
  // The tokens are appended step by step; their room is made once (bounded: a huge
  // max_tokens still grows the vector as usual past this).
  request->result.tokens.reserve(static_cast<size_t>(std::min(options.max_tokens, 1 << 16)));
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    if (queue_.size() + running_.size() >=
        static_cast<size_t>(options_.max_queued) + static_cast<size_t>(options_.max_running)) {
      handle->Finish(absl::ResourceExhaustedError(
          absl::StrCat("scheduler queue is full (", options_.max_queued, " waiting requests)")));
      return handle;
    }
    queue_.push_back(std::move(request));
  }
  signal_->cv.notify_all();
  return handle;
}

bool Scheduler::HasWorkLocked() const {
  if (!queue_.empty() && static_cast<int>(running_.size()) < options_.max_running && HeadFitsLocked()) return true;
  for (const auto& request : queue_) {
    if (request->handle->cancel_requested()) return true;
  }
  for (const auto& request : running_) {
    if (!request->delivering) return true;
  }
  return false;
}

bool Scheduler::AnyDeliveringLocked() const {
  return std::any_of(running_.begin(), running_.end(), [](const auto& request) { return request->delivering; });
}

void Scheduler::AdmitLocked(std::vector<std::shared_ptr<Request>>* finished) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->handle->cancel_requested()) {
      (*it)->finish = FinishReason::kCancelled;
      finished->push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  while (!queue_.empty() && static_cast<int>(running_.size()) < options_.max_running && HeadFitsLocked()) {
    running_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

// Whether the queue's first request may start: alone, always (the engine refuses what can
// never fit); beside others, when its prompt's KV cache fits the spare memory less what
// running prompts still need. Requests start in order: a big one is not overtaken.
bool Scheduler::HeadFitsLocked() const {
  if (running_.empty()) return true;
  int64_t spare = engine_->kv_budget_bytes() - engine_->kv_bytes_in_use() + prefix_cache_->bytes();
  for (const auto& request : running_) {
    if (!request->prefilling()) continue;
    spare -= engine_->KvBytesForLength(static_cast<int64_t>(request->prompt.size()) + 1) -
             (request->started ? engine_->KvBytesForLength(request->processed) : 0);
  }
  const Request& head = *queue_.front();
  return engine_->KvBytesForLength(static_cast<int64_t>(head.prompt.size()) + 1) <= spare;
}

bool Scheduler::Preempt(const std::shared_ptr<Request>& request) {
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    if (!PreemptLocked(request)) return false;
  }
  // Engine loop only: the request waits in the queue, which only this thread takes from.
  engine_->ReleaseSequence(request->sequence).IgnoreError();
  request->started = false;
  return true;
}

// Moves `request` (running) to the queue's front, its prompt extended by the tokens it
// generated since, to be prefilled again (Preempt releases its sequence). False (nothing
// changed) when no other started sequence holds memory that finishing would free.
bool Scheduler::PreemptLocked(const std::shared_ptr<Request>& request) {
  const bool others = std::any_of(running_.begin(), running_.end(),
                                  [&](const auto& other) { return other != request && other->started; });
  if (!others) return false;
  RequeueLocked(request);
  ++request->result.preemptions;
  return true;
}

// Moves `request` (running) to the queue's front, its prompt extended by the tokens it
// generated since, to be prefilled again; the caller releases its sequence.
void Scheduler::RequeueLocked(const std::shared_ptr<Request>& request) {
  running_.erase(std::find(running_.begin(), running_.end(), request));
  std::vector<int32_t>& tokens = request->result.tokens;
  request->prompt.insert(request->prompt.end(), tokens.begin() + request->tokens_in_prompt, tokens.end());
  request->tokens_in_prompt = tokens.size();
  request->processed = 0;
  request->result.recomputed_tokens += static_cast<int64_t>(request->prompt.size());
  queue_.push_front(request);
}

bool Scheduler::RestartLost(const std::shared_ptr<Request>& request) {
  if (request->restarted_after_failure) return false;
  request->restarted_after_failure = true;
  ++request->result.failed_step_recoveries;
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    RequeueLocked(request);
  }
  engine_->ReleaseSequence(request->sequence).IgnoreError();
  request->started = false;
  return true;
}

// Picks the running requests that take part in this step (not paused in a callback) and
// moves finished or cancelled ones out.
void Scheduler::BuildBatchLocked(Batch* batch, std::vector<std::shared_ptr<Request>>* finished) {
  for (auto it = running_.begin(); it != running_.end();) {
    Request& request = **it;
    if (request.delivering) {
      ++it;
      continue;
    }
    if (!request.finish && request.handle->cancel_requested()) request.finish = FinishReason::kCancelled;
    if (request.finish) {
      finished->push_back(std::move(*it));
      it = running_.erase(it);
      continue;
    }
    batch->requests.push_back(*it);
    ++it;
  }
}

void Scheduler::StartSequence(Request& request) {
  request.started = true;
  if (request.options.cache_prefix_tokens > 0 && options_.prefix_cache_bytes > 0) {
    absl::StatusOr<PrefixCache::Hit> hit =
        prefix_cache_->Lookup(request.prompt, PrefillPrecision(static_cast<int64_t>(request.prompt.size())));
    if (hit.ok()) {
      request.sequence = hit->sequence;
      request.processed = hit->tokens;
      // A recomputation's hit is not the client's prompt being reused.
      if (request.result.preemptions == 0) request.result.cached_prompt_tokens = hit->tokens;
      return;
    }
  }
  request.sequence = engine_->CreateSequence();
}

void Scheduler::Loop() {
  // Kept across iterations (cleared, not reallocated): the loop allocates nothing per step.
  // They are emptied at the end of every iteration, so that a finished request (and what
  // its callback holds) is not kept alive while the loop waits for work.
  Batch candidates;
  std::vector<std::shared_ptr<Request>> finished;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(signal_->mutex);
      // KV memory can also be freed outside this scheduler (the LLM policy classifier's
      // sequences), which signals nothing: a queued request waiting for memory looks again
      // every kMemoryRecheck.
      while (!stopping_ && !HasWorkLocked()) {
        if (queue_.empty()) {
          signal_->cv.wait(lock);
        } else {
          signal_->cv.wait_for(lock, kMemoryRecheck);
        }
      }
      // The last step's tokens may still be in their callbacks (on the delivery pool): wait
      // a moment for them so the running batch stays whole — a step reads the same weights
      // for one sequence as for eight, and a batch split once stays split. A callback that
      // takes longer (a slow client) pauses only its own sequence.
      signal_->cv.wait_for(lock, kDeliveryGrace, [&] { return stopping_ || !AnyDeliveringLocked(); });
      if (stopping_) return;
      AdmitLocked(&finished);
      BuildBatchLocked(&candidates, &finished);
    }
    for (auto& request : finished) {
      GenerateResult result = std::move(request->result);
      result.finish_reason = *request->finish;
      FinishRequest(*request, std::move(result));
    }
    // Decode tokens for all; prompt chunks within the per-step budget, cut at the cacheable
    // prefix's end so that its KV state can be stored exactly there.
    Batch& batch = *step_batch_;
    const bool anyone_decoding = std::any_of(candidates.requests.begin(), candidates.requests.end(),
                                             [](const auto& request) { return request->started && !request->prefilling(); });
    int64_t prefill_budget = anyone_decoding ? options_.prefill_chunk_tokens : options_.prefill_only_chunk_tokens;
    for (auto& request : candidates.requests) {
      if (!request->started) StartSequence(*request);
      if (request->prefilling()) {
        int64_t end = std::min<int64_t>(request->prompt.size(), request->processed + prefill_budget);
        const int64_t prefix = request->options.cache_prefix_tokens;
        if (request->processed < prefix && prefix < end) end = prefix;
        if (end <= request->processed) continue;  // no budget left this step
        prefill_budget -= end - request->processed;
        StepInput& input = batch.Add(request);
        input.sequence = request->sequence;
        input.tokens.assign(request->prompt.begin() + request->processed, request->prompt.begin() + end);
        // The whole prompt's precision for each of its chunks, as Engine::Generate's one step.
        input.precision = PrefillPrecision(static_cast<int64_t>(request->prompt.size()));
      } else {
        StepInput& input = batch.Add(request);
        input.sequence = request->sequence;
        input.tokens.assign(1, request->result.tokens.back());
        input.precision = ActivationPrecision::kFloat32;
      }
    }
    if (!batch.requests.empty()) RunBatch(batch);
    batch.Clear();
    candidates.Clear();
    finished.clear();
  }
}

void Scheduler::RunBatch(Batch& batch) {
  const absl::Span<const StepInput> inputs = batch.Inputs();
  step_status_.assign(inputs.size(), absl::OkStatus());
  step_preempted_.assign(inputs.size(), false);
  if (!engine_->Step(inputs, &step_outputs_).ok()) {
    // One sequence's failure (say, its KV budget) must not fail the others: step alone.
    step_outputs_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      // A kernel failed part-way through the step: every sequence in it lost its KV state
      // and is recomputed from its tokens (once; the engine refuses a lost one again).
      if (engine_->SequenceLost(inputs[i].sequence) && RestartLost(batch.requests[i])) {
        step_preempted_[i] = true;
        continue;
      }
      std::vector<StepOutput> single;
      absl::Status status = engine_->Step(inputs.subspan(i, 1), &single);
      // Cached prefixes only use spare memory: a sequence that runs out of KV budget gets
      // theirs before it fails (a step that fails its reservation computed nothing).
      while (absl::IsResourceExhausted(status) && prefix_cache_->EvictLeastRecentlyUsed()) {
        status = engine_->Step(inputs.subspan(i, 1), &single);
      }
      // Out of KV memory beside other sequences: preempted, not failed, and its memory is
      // freed now, before the next sequence of this step tries to grow.
      if (absl::IsResourceExhausted(status) && Preempt(batch.requests[i])) {
        step_preempted_[i] = true;
        continue;
      }
      if (status.ok()) {
        step_outputs_[i].logits.swap(single[0].logits);
      } else {
        step_status_[i] = std::move(status);
      }
    }
  }
  for (size_t i = 0; i < batch.requests.size(); ++i) {
    const std::shared_ptr<Request>& request = batch.requests[i];
    if (step_preempted_[i]) continue;
    if (!step_status_[i].ok()) {
      {
        std::lock_guard<std::mutex> lock(signal_->mutex);
        running_.erase(std::find(running_.begin(), running_.end(), request));
      }
      FinishRequest(*request, step_status_[i]);
      continue;
    }
    if (request->prefilling()) {
      request->processed += static_cast<int64_t>(inputs[i].tokens.size());
      const int64_t prefix = request->options.cache_prefix_tokens;
      if (request->processed == prefix && options_.prefix_cache_bytes > 0) {
        // Best effort: a prefix that does not fit the KV budget is simply not cached.
        prefix_cache_
            ->Insert(absl::MakeConstSpan(request->prompt).subspan(0, prefix), request->sequence,
                     PrefillPrecision(static_cast<int64_t>(request->prompt.size())))
            .IgnoreError();
      }
      if (request->prefilling()) continue;
    }
    AfterToken(request, request->sampler->Sample(step_outputs_[i].logits));
  }
}

void Scheduler::AfterToken(const std::shared_ptr<Request>& request, int32_t token) {
  request->result.tokens.push_back(token);
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    request->delivering = true;
  }
  if (request->callback) {
    delivery_->Post(request, token);
  } else {
    Deliver(request, token);
  }
}

// Same order of checks as Engine::Generate: a stop token ends the generation even when the
// callback also asked to stop.
void Scheduler::Deliver(const std::shared_ptr<Request>& request, int32_t token) {
  const bool keep_going = request->callback ? request->callback(token) : true;
  const std::vector<int32_t>& stops = request->options.stop_token_ids;
  std::optional<FinishReason> finish;
  if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
    finish = FinishReason::kStopToken;
  } else if (!keep_going) {
    finish = FinishReason::kCancelled;
  } else if (static_cast<int>(request->result.tokens.size()) >= request->options.max_tokens) {
    finish = FinishReason::kMaxTokens;
  }
  {
    std::lock_guard<std::mutex> lock(signal_->mutex);
    request->finish = finish;
    request->delivering = false;
  }
  signal_->cv.notify_all();
}

void Scheduler::FinishRequest(Request& request, absl::StatusOr<GenerateResult> result) {
  if (request.started) engine_->ReleaseSequence(request.sequence).IgnoreError();
  request.started = false;
  request.handle->Finish(std::move(result));
}

}  // namespace warden::model
