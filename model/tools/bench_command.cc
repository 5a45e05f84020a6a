// oss bench: prefill and batched decode throughput, time to first token, memory, a
// read-bandwidth probe and oneDNN's bf16 matmul peak, printed as one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/process_memory.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/kernels/bandwidth.h"
#include "model/kernels/dense.h"
#include "model/kernels/kernel_context.h"
#include "model/model_stats.h"
#include "model/scheduler.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "1,8" -> {1, 8}. An empty item ("1,,8", often an unset shell variable) and a repeated
// size (its result would overwrite the first under the same JSON key) are refused.
absl::StatusOr<std::vector<int>> ParseBatches(const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("flag --batch is empty");
  std::vector<int> batches;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int b;
    if (!absl::SimpleAtoi(part, &b) || b <= 0 || b > 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --batch must be a comma-separated list of sizes in [1, 1024], not '", text, "'"));
    }
    if (std::find(batches.begin(), batches.end(), b) != batches.end()) {
      return absl::InvalidArgumentError(absl::StrCat("flag --batch lists ", b, " twice"));
    }
    batches.push_back(b);
  }
  return batches;
}

// A bench request: runs to max_tokens (greedy unless a temperature is given).
GenerateOptions BenchRequestOptions(int max_tokens, int cache_prefix_tokens, float temperature = 0.0f,
                                    uint64_t seed = 0) {
  GenerateOptions options;
  options.temperature = temperature;
  options.seed = seed;
  options.max_tokens = max_tokens;
  options.stop_token_ids.clear();  // random weights: run to max_tokens
  options.cache_prefix_tokens = cache_prefix_tokens;
  return options;
}

// Aggregate decode tokens/s of `batch` concurrent scheduler requests on `prompt` (its
// prefix is cached, so they reach decode together): tokens produced after the last
// request's first token, over the time from then to the last token. Request b replaces the
// prompt's last token with its own and samples (temperature 1) with its own seed, so the
// sequences differ from their first step as distinct users' do, and so do the experts
// their tokens are routed to. (Identical greedy copies route every token of a step to the
// same experts, which overstates what batching gains.)
absl::StatusOr<double> DecodeTokensPerSecond(Scheduler& scheduler, const std::vector<int32_t>& prompt, int batch,
                                             int gen_tokens, int vocab) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<Clock::time_point>> stamps(batch);
  std::vector<std::shared_ptr<GenerationHandle>> handles;
  for (int b = 0; b < batch; ++b) {
    std::vector<int32_t> own = prompt;
    own.back() = static_cast<int32_t>((static_cast<int64_t>(own.back()) + b) % vocab);
    const GenerateOptions options = BenchRequestOptions(gen_tokens + 1, static_cast<int>(prompt.size()) - 1,
                                                        /*temperature=*/1.0f, /*seed=*/static_cast<uint64_t>(b) + 1);
    handles.push_back(scheduler.Submit(own, options, [&stamps, b](int32_t) {
      stamps[b].push_back(Clock::now());  // one callback at a time per request
      return true;
    }));
  }
  for (auto& handle : handles) RETURN_IF_ERROR(handle->Wait().status());
  Clock::time_point all_decoding = Clock::time_point::min(), last = Clock::time_point::min();
  for (const auto& s : stamps) {
    if (s.empty()) return absl::InternalError("a bench request produced no token");
    all_decoding = std::max(all_decoding, s.front());
    last = std::max(last, s.back());
  }
  int64_t tokens = 0;
  for (const auto& s : stamps) tokens += std::count_if(s.begin(), s.end(), [&](auto t) { return t > all_decoding; });
  const double seconds = std::chrono::duration<double>(last - all_decoding).count();
  if (seconds <= 0 || tokens == 0) return absl::InternalError("decode window too short; raise --gen_tokens");
  return tokens / seconds;
}

// Milliseconds from Submit to the first token of one request.
absl::StatusOr<double> TimeToFirstTokenMs(Scheduler& scheduler, const std::vector<int32_t>& prompt,
                                          int cache_prefix_tokens) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const GenerateResult result,
                   scheduler.Submit(prompt, BenchRequestOptions(1, cache_prefix_tokens), nullptr)->Wait());
  (void)result;
  return Seconds(start) * 1e3;
}

std::vector<int32_t> RandomTokens(std::mt19937& rng, int64_t n, int vocab) {
  std::vector<int32_t> tokens(n);
  for (int32_t& token : tokens) token = static_cast<int32_t>(rng() % vocab);
  return tokens;
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct PrefixTtft {
  double cold_ms = 0, cached_ms = 0;
};

// Time to first token of a prompt = `prefix_tokens` shared tokens + 16 own tokens, the
// first time (prefix computed and cached) and the second time (prefix served from cache).
// A first round on another prefix creates the kernels' primitives for these shapes.
absl::StatusOr<PrefixTtft> MeasurePrefixCache(Scheduler& scheduler, std::mt19937& rng, int64_t prefix_tokens,
                                              int vocab) {
  PrefixTtft ttft;
  for (int round = 0; round < 2; ++round) {
    const std::vector<int32_t> prefix = RandomTokens(rng, prefix_tokens, vocab);
    const int n = static_cast<int>(prefix_tokens);
    ASSIGN_OR_RETURN(ttft.cold_ms, TimeToFirstTokenMs(scheduler, Concat(prefix, RandomTokens(rng, 16, vocab)), n));
    ASSIGN_OR_RETURN(ttft.cached_ms, TimeToFirstTokenMs(scheduler, Concat(prefix, RandomTokens(rng, 16, vocab)), n));
  }
  return ttft;
}

struct MixedStep {
  double prompt_alone_ms = 0, with_decodes_ms = 0;
};

// One engine step of a `chunk_tokens`-token prompt chunk alone, and the same chunk sharing
// its step with `decodes` decoding sequences (what the scheduler runs when a prompt arrives
// while others generate). The second of two rounds, so the primitives exist.
absl::StatusOr<MixedStep> MeasureMixedStep(Engine& engine, std::mt19937& rng, int chunk_tokens, int decodes,
                                           int vocab) {
  MixedStep step;
  for (int round = 0; round < 2; ++round) {
    std::vector<StepInput> inputs(1);
    inputs[0].sequence = engine.CreateSequence();
    inputs[0].tokens = RandomTokens(rng, chunk_tokens, vocab);
    auto start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(engine.Step(inputs).status());
    step.prompt_alone_ms = Seconds(start) * 1e3;
    RETURN_IF_ERROR(engine.ReleaseSequence(inputs[0].sequence));
    inputs[0].sequence = engine.CreateSequence();
    for (int d = 0; d < decodes; ++d) {
      StepInput decode;
      decode.sequence = engine.CreateSequence();
      RETURN_IF_ERROR(engine.Prefill(decode.sequence, RandomTokens(rng, 16, vocab)).status());
      decode.tokens = RandomTokens(rng, 1, vocab);
      inputs.push_back(std::move(decode));
    }
    start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(engine.Step(inputs).status());
    step.with_decodes_ms = Seconds(start) * 1e3;
    for (const StepInput& input : inputs) RETURN_IF_ERROR(engine.ReleaseSequence(input.sequence));
  }
  return step;
}

// Refuses a run whose sequences would outgrow the model's context, before the prompt's
// tokens are allocated (a huge --prompt_tokens used to end in std::bad_alloc).
absl::Status CheckFitsContext(const ModelConfig& config, int64_t prompt_tokens, int64_t gen_tokens) {
  constexpr int64_t kPrefixProbeOwnTokens = 16;  // MeasurePrefixCache's own tokens
  const int64_t longest = prompt_tokens + std::max<int64_t>(gen_tokens + 1, kPrefixProbeOwnTokens);
  if (longest > config.max_position_embeddings) {
    return absl::OutOfRangeError(absl::StrCat("--prompt_tokens ", prompt_tokens, " and --gen_tokens ", gen_tokens,
                                              " need ", longest, " positions; the model allows ",
                                              config.max_position_embeddings));
  }
  return absl::OkStatus();
}

// A flag's parsed value, or its parse error prefixed with the flag's name.
template <typename T>
absl::StatusOr<T> FlagValue(const char* flag, absl::StatusOr<T> parsed) {
  if (parsed.ok()) return parsed;
  return absl::InvalidArgumentError(absl::StrCat("flag --", flag, ": ", parsed.status().message()));
}

}  // namespace

absl::Status RunBench(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags,
                   Flags::Parse(args, {"model_dir", "prompt_tokens", "gen_tokens", "batch", "threads", "seed", "weights",
                                          "weight_memory"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  ASSIGN_OR_RETURN(const int64_t prompt_tokens, flags.GetIntInRange("prompt_tokens", 128, 2, INT32_MAX));
  ASSIGN_OR_RETURN(const int64_t gen_tokens, flags.GetIntInRange("gen_tokens", 16, 1, INT32_MAX));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetIntInRange("threads", 0, 0, kMaxThreadsFlag));
  ASSIGN_OR_RETURN(const int64_t seed, flags.GetInt("seed", 1));
  ASSIGN_OR_RETURN(const std::vector<int> batches, ParseBatches(flags.Get("batch", "1")));
  load.threads = static_cast<int>(threads);
  ASSIGN_OR_RETURN(load.weight_mode, FlagValue("weights", ParseWeightMode(flags.Get("weights", ""))));
  ASSIGN_OR_RETURN(load.weight_memory, FlagValue("weight_memory", ParseResidency(flags.Get("weight_memory", ""))));
  const auto load_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  const double load_seconds = Seconds(load_start);
  const ModelConfig& config = engine->config();
  RETURN_IF_ERROR(CheckFitsContext(config, prompt_tokens, gen_tokens));

  std::mt19937 rng(static_cast<uint32_t>(seed));
  const std::vector<int32_t> prompt = RandomTokens(rng, prompt_tokens, config.vocab_size);
  {
    // Warm-up: creates the oneDNN primitives for this prompt length, as a serving engine
    // would have done long before.
    const SequenceId warmup = engine->CreateSequence();
    RETURN_IF_ERROR(engine->Prefill(warmup, prompt).status());
    RETURN_IF_ERROR(engine->ReleaseSequence(warmup));
  }
  const SequenceId prefix = engine->CreateSequence();
  const auto prefill_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const std::vector<float> logits, engine->Prefill(prefix, prompt));
  const double prefill_seconds = Seconds(prefill_start);
  const int32_t first = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  RETURN_IF_ERROR(engine->ReleaseSequence(prefix));
  (void)first;

  // The machine may be shared: probe bandwidth before and after decoding and keep the
  // best, so the fraction below is against what the memory system can deliver.
  ASSIGN_OR_RETURN(std::unique_ptr<KernelContext> ctx, KernelContext::Create({static_cast<int>(threads)}));
  const double bandwidth_before = MeasureReadBandwidthGbPerS(ctx->pool());
  SchedulerOptions scheduler_options;
  scheduler_options.max_running = *std::max_element(batches.begin(), batches.end());
  ASSIGN_OR_RETURN(std::unique_ptr<Scheduler> scheduler, Scheduler::Create(engine.get(), scheduler_options));
  // Caches the prompt's prefix, so the batches below start decoding at once.
  RETURN_IF_ERROR(
      scheduler->Submit(prompt, BenchRequestOptions(1, static_cast<int>(prompt_tokens) - 1), nullptr)->Wait().status());
  nlohmann::json decode = nlohmann::json::object();
  for (int batch : batches) {
    ASSIGN_OR_RETURN(const double tps, DecodeTokensPerSecond(*scheduler, prompt, batch, static_cast<int>(gen_tokens),
                                                                          config.vocab_size));
    decode[std::to_string(batch)] = tps;
  }
  ASSIGN_OR_RETURN(const PrefixTtft prefix_ttft, MeasurePrefixCache(*scheduler, rng, prompt_tokens, config.vocab_size));
  scheduler.reset();
  constexpr int kMixedChunkTokens = 256, kMixedDecodes = 8;  // the scheduler's default chunk
  ASSIGN_OR_RETURN(const MixedStep mixed,
                   MeasureMixedStep(*engine, rng, kMixedChunkTokens, kMixedDecodes, config.vocab_size));

  ASSIGN_OR_RETURN(const double matmul_peak, MeasureBf16MatmulGflops(*ctx, 2048, 3));
  const ProcessMemory memory = ReadProcessMemory();
  const double bandwidth = std::max(bandwidth_before, MeasureReadBandwidthGbPerS(ctx->pool()));

  const int64_t bytes_per_token = WeightBytesPerDecodeToken(config, load.weight_mode == WeightMode::kFast);
  const double prefill_tps = prompt_tokens / prefill_seconds;
  nlohmann::json out;
  out["model_dir"] = load.model_dir;
  out["threads"] = ctx->pool().size();
  out["weights"] = WeightModeName(load.weight_mode);
  out["weight_memory"] = ResidencyName(load.weight_memory);
  out["prompt_tokens"] = prompt_tokens;
  out["gen_tokens"] = gen_tokens;
  out["load_seconds"] = load_seconds;
  out["prefill_tokens_per_s"] = prefill_tps;
  out["decode_tokens_per_s"] = decode;
  out["time_to_first_token_ms"] = prefill_seconds * 1e3;
  out["time_to_first_token_prefix_cold_ms"] = prefix_ttft.cold_ms;
  out["time_to_first_token_prefix_cached_ms"] = prefix_ttft.cached_ms;
  out["prefix_cache_ttft_speedup"] = prefix_ttft.cached_ms > 0 ? prefix_ttft.cold_ms / prefix_ttft.cached_ms : 0.0;
  out["prompt_chunk_step_ms"] = {{"chunk_tokens", kMixedChunkTokens},
                                 {"alone", mixed.prompt_alone_ms},
                                 {"with_decodes", kMixedDecodes},
                                 {"with_decodes_ms", mixed.with_decodes_ms}};
  out["resident_mb"] = memory.resident_mb;
  out["peak_resident_mb"] = memory.peak_resident_mb;
  // With resident weights, resident_mb far above this means weights left on 4 KB pages.
  out["huge_page_mb"] = memory.huge_page_mb;
  out["read_bandwidth_gb_per_s"] = bandwidth;
  out["bytes_per_decode_token"] = bytes_per_token;
  const double batch1 = decode.contains("1") ? decode["1"].get<double>() : decode.begin()->get<double>();
  out["fraction_of_bandwidth_limit"] = bandwidth > 0 ? batch1 * bytes_per_token / (bandwidth * 1e9) : 0.0;
  // Per batch size: the measured aggregate speedup over batch 1, and the most that the
  // weight bytes allow when the batch's tokens are routed independently (model_stats.h).
  if (decode.contains("1")) {
    nlohmann::json speedup = nlohmann::json::object(), ceiling = nlohmann::json::object();
    // `fast` reads its int8 dense copies only in decode-sized steps (FastModeUsesInt8Dense).
    const auto int8_dense = [&load, &config](int rows) {
      return load.weight_mode == WeightMode::kFast && FastModeUsesInt8Dense(rows, config.hidden_size);
    };
    for (int batch : batches) {
      speedup[std::to_string(batch)] = decode[std::to_string(batch)].get<double>() / batch1;
      ceiling[std::to_string(batch)] = static_cast<double>(batch) * static_cast<double>(bytes_per_token) /
                                       ExpectedWeightBytesPerDecodeStep(config, batch, int8_dense(batch));
    }
    out["batch_decode_speedup"] = speedup;
    out["batch_decode_speedup_bandwidth_ceiling"] = ceiling;
  }
  out["prefill_gflops"] = 2.0 * ActiveMatmulParamsPerToken(config) * prefill_tps / 1e9;
  out["matmul_peak_gflops"] = matmul_peak;
  std::printf("%s\n", out.dump(2).c_str());
  return absl::OkStatus();
}

}  // namespace warden::model::tools
