// Tokenizer benchmark: prints one JSON object with vocabulary load time, encode throughput
// on a mixed corpus (single thread and all threads), and time / peak RSS for two
// adversarial 1 MB inputs (no whitespace; one repeated emoji).
//
// The corpus is built at run time from files of the shared directory (by path, nothing is
// committed): the texts of fixtures/tokenizer/encode_cases.jsonl and every *.md file of
// the spec/fixtures/examples folders and the top level.
//   bazel run -c opt //model/tokenizer:tokenizer_bench -- [--shared_dir DIR]
//       [--write_corpus FILE] [--threads N] [--adversarial_mb N]
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "base/process_memory.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/vocab_loader.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, shared_dir, "",
          "shared directory (default: $BUILD_WORKSPACE_DIRECTORY/../shared, else /work/shared)");
ABSL_FLAG(std::string, vocab, "", "o200k_base.tiktoken (default: shipped vocabulary)");
ABSL_FLAG(std::string, write_corpus, "", "also write the corpus to this file");
ABSL_FLAG(int, threads, 2, "threads for the parallel throughput run");
ABSL_FLAG(int, adversarial_mb, 1, "size in MiB of the no-space and emoji inputs");
ABSL_FLAG(double, min_seconds, 1.0, "minimum measuring time per throughput figure");

namespace warden::model {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string SharedDir() {
  std::string dir = absl::GetFlag(FLAGS_shared_dir);
  if (!dir.empty()) return dir;
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    const std::string candidate = std::string(ws) + "/../shared";
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return "/work/shared";
}

// Corpus documents separated by blank lines.
std::string BuildCorpus(const std::string& shared, int* num_docs) {
  std::string corpus;
  *num_docs = 0;
  std::ifstream cases(shared + "/fixtures/tokenizer/encode_cases.jsonl");
  std::string line;
  while (std::getline(cases, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("text") && j["text"].is_string()) {
      corpus += j["text"].get<std::string>();
      corpus += "\n\n";
      ++*num_docs;
    }
  }
  for (const char* sub : {"", "/spec", "/fixtures", "/examples"}) {
    const std::string dir = shared + sub;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".md") continue;
      if (std::string(sub).empty() && entry.path().parent_path() != dir) continue;
      auto text = ReadFileToString(entry.path().string());
      if (text.ok()) {
        corpus += *text + "\n\n";
        ++*num_docs;
      }
    }
  }
  return corpus;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false if not permitted.
bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct ThroughputResult {
  double mb_per_s;      // wall clock, all threads together
  double mb_per_cpu_s;  // per CPU-second actually used: robust on a loaded machine
};

// Encodes `text` repeatedly on `threads` threads for at least min_seconds.
ThroughputResult Throughput(const Tokenizer& tok, const std::string& text, int threads,
                            double min_seconds, size_t* num_tokens) {
  *num_tokens = tok.EncodeOrdinary(text).size();  // warm-up
  std::atomic<long> passes{0};
  std::vector<double> cpu_seconds(threads, 0.0);
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const double cpu_start = ThreadCpuSeconds();
      while (SecondsSince(start) < min_seconds) {
        const auto ids = tok.EncodeOrdinary(text);
        if (ids.size() != *num_tokens) std::abort();  // encoding must be deterministic
        ++passes;
      }
      cpu_seconds[t] = ThreadCpuSeconds() - cpu_start;
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = SecondsSince(start);
  double total_cpu = 0;
  for (double c : cpu_seconds) total_cpu += c;
  const double megabytes = static_cast<double>(passes.load()) * text.size() / 1e6;
  return {megabytes / seconds, megabytes / total_cpu};
}

nlohmann::ordered_json Adversarial(const Tokenizer& tok, const std::string& text) {
  const double rss_before_mb = ReadProcessMemory().resident_mb;
  const bool reset = ResetPeakRss();
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  const auto ids = tok.EncodeOrdinary(text);
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  const double seconds = SecondsSince(start);
  nlohmann::ordered_json j;
  j["bytes"] = text.size();
  j["tokens"] = ids.size();
  j["seconds"] = seconds;
  j["cpu_seconds"] = cpu_seconds;
  j["mb_per_s"] = text.size() / seconds / 1e6;
  j["rss_before_mb"] = rss_before_mb;
  j["peak_rss_mb"] = ReadProcessMemory().peak_resident_mb;
  j["peak_rss_reset_ok"] = reset;
  return j;
}

int Main() {
  std::string vocab = absl::GetFlag(FLAGS_vocab);
  if (vocab.empty()) vocab = Tokenizer::DefaultVocabPath();
  const auto process_start = Clock::now();
  auto tok = Tokenizer::LoadTiktoken(vocab);
  const double load_seconds = SecondsSince(process_start);
  if (!tok.ok()) {
    std::cerr << tok.status() << "\n";
    return 1;
  }
  int num_docs = 0;
  const std::string shared = SharedDir();
  const std::string corpus = BuildCorpus(shared, &num_docs);
  if (corpus.empty()) {
    std::cerr << "empty corpus; pass --shared_dir\n";
    return 1;
  }
  if (const std::string out = absl::GetFlag(FLAGS_write_corpus); !out.empty()) {
    std::ofstream(out, std::ios::binary) << corpus;
  }
  // First pass right after loading: what a short-lived process sees.
  const auto first_start = Clock::now();
  const size_t first_tokens = (*tok)->EncodeOrdinary(corpus).size();
  const double first_seconds = SecondsSince(first_start);

  const double min_seconds = absl::GetFlag(FLAGS_min_seconds);
  const int threads = absl::GetFlag(FLAGS_threads);
  size_t num_tokens = 0;
  const ThroughputResult single = Throughput(**tok, corpus, 1, min_seconds, &num_tokens);
  const ThroughputResult multi = Throughput(**tok, corpus, threads, min_seconds, &num_tokens);

  std::mt19937 rng(42);
  const size_t adversarial_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_adversarial_mb)) << 20;
  std::string no_space(adversarial_bytes, 'a');
  for (char& c : no_space) c = static_cast<char>('a' + rng() % 26);
  std::string emoji;
  while (emoji.size() < adversarial_bytes) emoji += "\xF0\x9F\x98\x80";

  nlohmann::ordered_json j;
  j["cores"] = std::thread::hardware_concurrency();
  j["corpus_bytes"] = corpus.size();
  j["corpus_documents"] = num_docs;
  j["corpus_tokens"] = first_tokens;
  j["load_ms"] = load_seconds * 1e3;
  j["first_pass_ms"] = first_seconds * 1e3;
  j["whole_process_mb_per_s"] = corpus.size() / (load_seconds + first_seconds) / 1e6;
  j["encode_mb_per_s_1_thread"] = single.mb_per_s;
  j["encode_mb_per_cpu_s_1_thread"] = single.mb_per_cpu_s;
  j["encode_mb_per_s_" + std::to_string(threads) + "_threads"] = multi.mb_per_s;
  j["encode_mb_per_s_per_core"] = multi.mb_per_s / threads;
  j["encode_mb_per_cpu_s_per_core"] = multi.mb_per_cpu_s;
  const std::string suffix = "_" + std::to_string(absl::GetFlag(FLAGS_adversarial_mb)) + "mb";
  j["no_space" + suffix] = Adversarial(**tok, no_space);
  j["emoji" + suffix] = Adversarial(**tok, emoji);
  std::cout << j.dump(2) << std::endl;
  return 0;
}

}  // namespace
}  // namespace warden::model

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return warden::model::Main();
}
