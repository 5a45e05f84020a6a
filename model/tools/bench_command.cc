// oss bench: prefill and batched decode throughput, time to first token, memory, a
// read-bandwidth probe and oneDNN's bf16 matmul peak, printed as one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/kernels/dense.h"
#include "model/kernels/kernel_context.h"
#include "model/model_stats.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Best of three passes summing a 1 GiB buffer (bigger than any cache), in GB/s.
double ReadBandwidthGbPerS(ThreadPool& pool) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  std::vector<uint64_t> buffer(n, 1);
  double best = 0.0;
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<uint64_t> sums(pool.size() + 1, 0);
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        s0 += buffer[i]; s1 += buffer[i + 1]; s2 += buffer[i + 2]; s3 += buffer[i + 3];
      }
      for (; i < end; ++i) s0 += buffer[i];
      sums[begin * pool.size() / n] = s0 + s1 + s2 + s3;
    });
    const double seconds = Seconds(start);
    uint64_t total = 0;
    for (uint64_t s : sums) total += s;
    if (total != n) return 0.0;  // keeps the loads live
    best = std::max(best, n * sizeof(uint64_t) / seconds / 1e9);
  }
  return best;
}

absl::StatusOr<std::vector<int>> ParseBatches(const std::string& text) {
  std::vector<int> batches;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int b;
    if (!absl::SimpleAtoi(part, &b) || b <= 0 || b > 1024) {
      return absl::InvalidArgumentError("flag --batch must be a list of sizes in [1, 1024]");
    }
    batches.push_back(b);
  }
  if (batches.empty()) return absl::InvalidArgumentError("flag --batch is empty");
  return batches;
}

// Decode throughput with `batch` sequences forked from an already prefilled one.
absl::StatusOr<double> DecodeTokensPerSecond(Engine& engine, SequenceId prefix, int batch, int gen_tokens,
                                             int32_t token) {
  std::vector<StepInput> inputs(batch);
  for (StepInput& input : inputs) {
    ASSIGN_OR_RETURN(input.sequence, engine.ForkSequence(prefix));
    input.tokens = {token};
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < gen_tokens; ++i) {
    ASSIGN_OR_RETURN(const std::vector<StepOutput> outputs, engine.Step(inputs));
    for (size_t b = 0; b < inputs.size(); ++b) {
      const auto& logits = outputs[b].logits;
      inputs[b].tokens[0] = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
  }
  const double seconds = Seconds(start);
  for (const StepInput& input : inputs) RETURN_IF_ERROR(engine.ReleaseSequence(input.sequence));
  return batch * static_cast<double>(gen_tokens) / seconds;
}

}  // namespace

absl::Status RunBench(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags,
                   Flags::Parse(args, {"model_dir", "prompt_tokens", "gen_tokens", "batch", "threads", "seed"}));
  LoadOptions load;
  ASSIGN_OR_RETURN(load.model_dir, flags.Required("model_dir"));
  ASSIGN_OR_RETURN(const int64_t prompt_tokens, flags.GetInt("prompt_tokens", 128));
  ASSIGN_OR_RETURN(const int64_t gen_tokens, flags.GetInt("gen_tokens", 16));
  ASSIGN_OR_RETURN(const int64_t threads, flags.GetInt("threads", 0));
  ASSIGN_OR_RETURN(const int64_t seed, flags.GetInt("seed", 1));
  ASSIGN_OR_RETURN(const std::vector<int> batches, ParseBatches(flags.Get("batch", "1")));
  if (prompt_tokens <= 0 || gen_tokens <= 0) {
    return absl::InvalidArgumentError("flags --prompt_tokens and --gen_tokens must be > 0");
  }
  load.threads = static_cast<int>(threads);
  const auto load_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Load(load));
  const double load_seconds = Seconds(load_start);
  const ModelConfig& config = engine->config();

  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<int32_t> prompt(prompt_tokens);
  for (int32_t& token : prompt) token = static_cast<int32_t>(rng() % config.vocab_size);
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

  nlohmann::json decode = nlohmann::json::object();
  for (int batch : batches) {
    ASSIGN_OR_RETURN(const double tps, DecodeTokensPerSecond(*engine, prefix, batch, static_cast<int>(gen_tokens), first));
    decode[std::to_string(batch)] = tps;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<KernelContext> ctx, KernelContext::Create({static_cast<int>(threads)}));
  ASSIGN_OR_RETURN(const double matmul_peak, MeasureBf16MatmulGflops(*ctx, 2048, 3));
  const double resident_mb = ResidentMb();
  const double bandwidth = ReadBandwidthGbPerS(ctx->pool());

  const int64_t bytes_per_token = WeightBytesPerDecodeToken(config);
  const double prefill_tps = prompt_tokens / prefill_seconds;
  nlohmann::json out;
  out["model_dir"] = load.model_dir;
  out["threads"] = ctx->pool().size();
  out["prompt_tokens"] = prompt_tokens;
  out["gen_tokens"] = gen_tokens;
  out["load_seconds"] = load_seconds;
  out["prefill_tokens_per_s"] = prefill_tps;
  out["decode_tokens_per_s"] = decode;
  out["time_to_first_token_ms"] = prefill_seconds * 1e3;
  out["resident_mb"] = resident_mb;
  out["peak_resident_mb"] = PeakResidentMb();
  out["read_bandwidth_gb_per_s"] = bandwidth;
  out["bytes_per_decode_token"] = bytes_per_token;
  const double batch1 = decode.contains("1") ? decode["1"].get<double>() : decode.begin()->get<double>();
  out["fraction_of_bandwidth_limit"] = bandwidth > 0 ? batch1 * bytes_per_token / (bandwidth * 1e9) : 0.0;
  out["prefill_gflops"] = 2.0 * ActiveMatmulParamsPerToken(config) * prefill_tps / 1e9;
  out["matmul_peak_gflops"] = matmul_peak;
  std::printf("%s\n", out.dump(2).c_str());
  return absl::OkStatus();
}

}  // namespace warden::model::tools
