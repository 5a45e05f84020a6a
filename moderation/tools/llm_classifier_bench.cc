// What the LLM policy classifier costs per request on a checkpoint: the policy prefix's
// one-time prefill, then per text size the time of a call that prefills only the content
// (the prefix comes from the classifier's cache) and its content tokens per second. Prints
// one JSON object; asserts nothing.
//
//   bazel build -c opt //moderation:llm_classifier_bench
//   bazel-bin/moderation/llm_classifier_bench --model_dir DIR [--policy_file FILE]
//       [--threads N] [--weights exact|fast] [--sizes 256,1024,4096] [--repeats 3] [--batch N]
//
// --batch N (default 1) judges N different texts of each size per call
// (ViolationProbabilities: the engine runs them together); the row then also gives the time
// per text.
// The default policy is moderation/llm_policies/violent_threats.md. A random checkpoint
// (oss make-checkpoint) gives the label tokens almost no probability, so the classifier's
// label-mass check is off here: the numbers are the cost, not the verdicts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/runfiles.h"
#include "base/status_macros.h"
#include "model/engine.h"
#include "model/kernels/openmp_env.h"
#include "model/tokenizer/tokenizer.h"
#include "model/weight_options.h"
#include "moderation/engine_llm_backend.h"
#include "moderation/llm_policy_classifier.h"
#include "moderation/tools/tool_flags.h"

namespace warden::moderation {
namespace {

constexpr char kDefaultPolicy[] = "moderation/llm_policies/violent_threats.md";

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Ordinary English of about `bytes` bytes, different for every `variant` (>= 0), so that no
// two calls share content.
std::string ContentText(size_t bytes, int variant) {
  static const char* const kSentences[] = {
      "I waited at the station for an hour because the trains were late again. ",
      "My manager keeps moving the deadline and I am honestly exhausted by it. ",
      "We watched the match last night and the referee made three bad calls. ",
      "The neighbours have a new dog that barks whenever the postman comes by. ",
      "Could someone explain why the invoice shows two charges for one order? ",
  };
  std::string text = absl::StrCat("Message ", variant, ": ");
  for (int i = variant; text.size() < bytes; ++i) text += kSentences[i % 5];
  text.resize(bytes);
  return text;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

absl::StatusOr<std::vector<size_t>> ParseSizes(const std::string& list) {
  std::vector<size_t> sizes;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    size_t size = 0;
    if (!absl::SimpleAtoi(part, &size) || size == 0 || size > (1 << 20)) {
      return absl::InvalidArgumentError(absl::StrCat("--sizes: '", part, "' is not a size in 1..1048576 bytes"));
    }
    sizes.push_back(size);
  }
  return sizes;
}

absl::Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(const tools::Flags flags, tools::ParseFlags(argc, argv, 1));
  ASSIGN_OR_RETURN(const std::string model_dir, tools::Required(flags, "model_dir"));
  int threads = 0, repeats = 3, batch = 1;
  RETURN_IF_ERROR(tools::Optional(flags, "threads", &threads));
  RETURN_IF_ERROR(tools::Optional(flags, "repeats", &repeats));
  RETURN_IF_ERROR(tools::Optional(flags, "batch", &batch));
  if (repeats < 1) return absl::InvalidArgumentError("--repeats must be >= 1");
  if (batch < 1 || batch > 64) return absl::InvalidArgumentError("--batch must be in 1..64");
  ASSIGN_OR_RETURN(const std::vector<size_t> sizes,
                   ParseSizes(flags.count("sizes") ? flags.at("sizes") : "256,1024,4096"));
  model::LoadOptions load;
  load.model_dir = tools::ResolvePath(model_dir);
  load.threads = threads;
  if (flags.count("weights")) {
    ASSIGN_OR_RETURN(load.weight_mode, model::ParseWeightMode(flags.at("weights")));
  }
  const std::string policy_path =
      flags.count("policy_file") ? tools::ResolvePath(flags.at("policy_file")) : kDefaultPolicy;
  ASSIGN_OR_RETURN(const std::string policy, ReadFile(policy_path));

  const double load_start = Seconds();
  ASSIGN_OR_RETURN(std::unique_ptr<model::Engine> engine, model::Engine::Load(load));
  ASSIGN_OR_RETURN(const std::string vocab, FindRunfile(model::Tokenizer::DefaultVocabPath()));
  ASSIGN_OR_RETURN(std::unique_ptr<model::Tokenizer> tokenizer, model::Tokenizer::LoadTiktoken(vocab));
  if (engine->config().vocab_size < static_cast<int>(tokenizer->vocab_size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the checkpoint has a vocabulary of ", engine->config().vocab_size,
        " tokens; the policy prompt is rendered with the o200k_harmony tokenizer, which needs ",
        tokenizer->vocab_size(), " (make-checkpoint's tiny preset has 2,048: use the 20b preset with --layers)"));
  }
  const double load_seconds = Seconds() - load_start;
  auto backend = std::make_shared<EngineLlmBackend>(engine.get(), tokenizer.get());
  LlmPolicyClassifierOptions options;
  options.min_label_mass = 0.0f;
  ASSIGN_OR_RETURN(std::unique_ptr<LlmPolicyClassifier> classifier, LlmPolicyClassifier::Create(backend, options));
  ASSIGN_OR_RETURN(const std::vector<uint32_t> policy_tokens, backend->Tokenize(policy));

  // The first call prefills the policy prefix and a small text; the difference to a warm
  // call of the same size is the prefix's one-time cost.
  const absl::Time no_deadline = absl::InfiniteFuture();
  const std::string first_text = ContentText(sizes.front(), 1 << 20);
  double start = Seconds();
  RETURN_IF_ERROR(classifier->ViolationProbability(policy, first_text, no_deadline).status());
  const double first_call = Seconds() - start;

  std::string rows;
  int variant = 0;
  for (size_t size : sizes) {
    std::vector<double> times;
    size_t tokens = 0;
    for (int r = 0; r < repeats; ++r) {
      std::vector<std::string> texts;
      for (int i = 0; i < batch; ++i) texts.push_back(ContentText(size, variant++));
      ASSIGN_OR_RETURN(const std::vector<uint32_t> ids, backend->Tokenize(texts.front()));
      tokens = ids.size();
      start = Seconds();
      if (batch == 1) {
        RETURN_IF_ERROR(classifier->ViolationProbability(policy, texts.front(), no_deadline).status());
      } else {
        for (const auto& verdict : classifier->ViolationProbabilities(policy, texts, no_deadline)) {
          RETURN_IF_ERROR(verdict.status());
        }
      }
      times.push_back(Seconds() - start);
    }
    const double median = Median(times);
    absl::StrAppend(&rows, rows.empty() ? "" : ",\n", "    {\"bytes\": ", size, ", \"text_tokens\": ", tokens,
                    ", \"median_ms\": ", median * 1e3, ", \"per_text_ms\": ", median * 1e3 / batch,
                    ", \"text_tokens_per_s\": ", tokens * batch / median, "}");
  }
  std::printf(
      "{\n  \"model_dir\": \"%s\",\n  \"threads\": %d,\n  \"batch\": %d,\n  \"weights\": \"%s\",\n  \"load_seconds\": %.2f,\n"
      "  \"policy_tokens\": %zu,\n  \"first_call_ms\": %.1f,\n  \"warm_calls\": [\n%s\n  ]\n}\n",
      load.model_dir.c_str(), threads, batch, flags.count("weights") ? flags.at("weights").c_str() : "exact", load_seconds,
      policy_tokens.size(), first_call * 1e3, rows.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace warden::moderation

int main(int argc, char** argv) {
  warden::model::ReexecWithShortOpenMpSpinIfUnset(argv);
  const absl::Status status = warden::moderation::Run(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "llm_classifier_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
