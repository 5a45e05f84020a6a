// Latency and throughput of the fast classifier on ~1 KB texts, one thread.
// Prints Google Benchmark's table plus one JSON line per text kind with p50/p99 latency
// (microseconds) and texts per second per core. Uses the shipped model unless
// --model=FILE is given. Two kinds of text: "vocabulary" (words of a 43-word list, so many
// repeats, as in v1-v3's measurements) and "distinct" (pseudo-words that rarely repeat:
// the most features a 1 KB text can have after a model that counts each distinct feature
// once has removed repeats, i.e. the slowest case for default-v4). "vocabulary, windows
// 64" scores the vocabulary texts (sentences of ~11 words) as the pipeline does with
// long_text_window_words 64 (moderation/long_text.h): the whole text and its windows.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "moderation/default_model.h"
#include "moderation/fast_classifier.h"
#include "moderation/long_text.h"

namespace warden::moderation {
namespace {

const FastClassifier* g_classifier = nullptr;

// Deterministic ~1 KB texts built from a fixed vocabulary (no data set needed).
// One step of a 64-bit linear congruential generator: reproducible texts without <random>.
uint64_t NextState(uint64_t* state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return *state;
}

// `count` texts of exactly 1 KB, each filled by calling append(&state, &text) until it
// reaches 1,024 bytes; `seed` starts the generator the words are drawn from.
template <typename AppendWord>
std::vector<std::string> MakeKilobyteTexts(int count, uint64_t seed, AppendWord append) {
  std::vector<std::string> out;
  uint64_t state = seed;
  for (int i = 0; i < count; ++i) {
    std::string text;
    while (text.size() < 1024) append(&state, &text);
    text.resize(1024);
    out.push_back(text);
  }
  return out;
}

std::vector<std::string> MakeTexts(int count) {
  static const char* kWords[] = {
      "the", "report", "said", "people", "would", "never", "agree", "with", "this", "kill",
      "process", "attack", "market", "hate", "mondays", "weather", "tomorrow", "police",
      "investigate", "community", "school", "friends", "terrible", "wonderful", "dinner",
      "ignore", "instructions", "previous", "story", "about", "violence", "graphic", "novel",
      "Überraschung", "naïve", "café", "I'm", "don't", "really", "think", "so", "please", "help"};
  return MakeKilobyteTexts(count, 12345, [](uint64_t* state, std::string* text) {
    const uint64_t r = NextState(state);
    *text += kWords[(r >> 33) % (sizeof(kWords) / sizeof(kWords[0]))];
    *text += (r >> 20) % 11 == 0 ? ". " : " ";
  });
}

// ~1 KB of pseudo-words of 3-9 random letters: almost every n-gram is distinct.
std::vector<std::string> MakeDistinctTexts(int count) {
  return MakeKilobyteTexts(count, 777, [](uint64_t* state, std::string* text) {
    const int length = 3 + static_cast<int>((NextState(state) >> 40) % 7);
    for (int k = 0; k < length; ++k) *text += static_cast<char>('a' + (NextState(state) >> 33) % 26);
    *text += ' ';
  });
}

// One text's scores, in windows when window_words > 0 (as the pipeline scores).
CategoryScores ScoreOnce(const std::string& text, int window_words) {
  if (window_words == 0) return g_classifier->Score(text);
  return *ScoreWithWindows(*g_classifier, text, window_words);  // cannot fail for a valid size
}

void RunScoreBenchmark(benchmark::State& state, const std::vector<std::string>& texts, int window_words = 0) {
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ScoreOnce(texts[i++ % texts.size()], window_words));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 1024);
}

void BM_Score1KB(benchmark::State& state) { RunScoreBenchmark(state, MakeTexts(256)); }
BENCHMARK(BM_Score1KB);

void BM_Score1KBDistinct(benchmark::State& state) {
  RunScoreBenchmark(state, MakeDistinctTexts(256));
}
BENCHMARK(BM_Score1KBDistinct);

void BM_Score1KBWindows64(benchmark::State& state) { RunScoreBenchmark(state, MakeTexts(256), 64); }
BENCHMARK(BM_Score1KBWindows64);

// Per-call latency distribution measured directly (Google Benchmark reports means only).
void PrintPercentiles(const char* kind, const std::vector<std::string>& texts, int window_words = 0) {
  std::vector<double> micros;
  const int kCalls = 20000;
  micros.reserve(kCalls);
  for (int i = 0; i < 1000; ++i) benchmark::DoNotOptimize(ScoreOnce(texts[i % 256], window_words));
  const auto start_all = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(ScoreOnce(texts[i % texts.size()], window_words));
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_all).count();
  std::sort(micros.begin(), micros.end());
  std::cout << "{\"texts\": \"" << kind << "\", \"text_bytes\": 1024, \"calls\": " << kCalls
            << ", \"p50_us\": " << micros[micros.size() / 2]
            << ", \"p99_us\": " << micros[micros.size() * 99 / 100]
            << ", \"texts_per_s_per_core\": " << kCalls / total_s << "}\n";
}

}  // namespace
}  // namespace warden::moderation

int main(int argc, char** argv) {
  std::string model_path;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model=", 8) == 0) {
      model_path = argv[i] + 8;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (model_path.empty()) {
    auto found = warden::moderation::FindDefaultModel();
    if (!found.ok()) {
      std::cerr << found.status() << "\n";
      return 1;
    }
    model_path = *found;
  }
  auto classifier = warden::moderation::FastClassifier::Load(model_path);
  if (!classifier.ok()) {
    std::cerr << classifier.status() << "\n";
    return 1;
  }
  warden::moderation::g_classifier = classifier->get();
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  warden::moderation::PrintPercentiles("vocabulary", warden::moderation::MakeTexts(256));
  warden::moderation::PrintPercentiles("distinct", warden::moderation::MakeDistinctTexts(256));
  warden::moderation::PrintPercentiles("vocabulary, windows 64", warden::moderation::MakeTexts(256), 64);
  return 0;
}
