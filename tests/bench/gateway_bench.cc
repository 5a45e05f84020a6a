// Measures the gateway's own overhead against a running server:
//  - Moderate: requests/s and p50/p99 latency with 1 KB texts from N concurrent clients;
//  - time to first token of StreamGenerate, and the same prompt through Moderate (what the
//    input checks add to the first token).
// Prints one JSON object. Usage:
//   gateway_bench --target HOST:PORT --api_key KEY [--clients 16] [--seconds 10]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "proto/warden.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Warden address.");
ABSL_FLAG(std::string, api_key, "warden-demo-key", "App key.");
ABSL_FLAG(int, clients, 16, "Concurrent Moderate clients.");
ABSL_FLAG(double, seconds, 10, "Duration of the Moderate run.");
ABSL_FLAG(int, ttft_samples, 5, "StreamGenerate calls for the time-to-first-token figure.");

namespace {

using Clock = std::chrono::steady_clock;

std::string OneKilobyteText() {
  const std::string sentence =
      "Our team reviewed the quarterly numbers, the hiring plan and the customer feedback from last month. ";
  std::string text;
  while (text.size() < 1024) text += sentence;
  return text.substr(0, 1024);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

void Authorize(grpc::ClientContext* context) {
  context->AddMetadata("authorization", "Bearer " + absl::GetFlag(FLAGS_api_key));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  const std::string text = OneKilobyteText();
  const auto until = Clock::now() + std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds));
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < absl::GetFlag(FLAGS_clients); ++i) {
    threads.emplace_back([&] {
      // One channel per client, like independent app instances.
      auto own = grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
      auto stub = warden::v1::Warden::NewStub(own);
      std::vector<double> mine;
      while (Clock::now() < until) {
        warden::v1::ModerateRequest request;
        request.add_texts(text);
        warden::v1::ModerateResponse response;
        grpc::ClientContext context;
        Authorize(&context);
        const auto t0 = Clock::now();
        const grpc::Status status = stub->Moderate(&context, request, &response);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (status.ok()) {
          mine.push_back(ms);
        } else {
          ++errors;
        }
      }
      absl::MutexLock lock(&mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  // Time to first token, and the input checks alone (Moderate of the same prompt).
  auto stub = warden::v1::Warden::NewStub(channel);
  std::vector<double> ttft_ms, check_ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_ttft_samples); ++i) {
    warden::v1::GenerateRequest request;
    auto* message = request.add_messages();
    message->set_role(warden::v1::USER);
    message->set_content(text);
    request.mutable_sampling()->set_max_output_tokens(1);
    request.mutable_sampling()->set_temperature(0);
    grpc::ClientContext context;
    Authorize(&context);
    const auto t0 = Clock::now();
    auto reader = stub->StreamGenerate(&context, request);
    warden::v1::GenerateChunk chunk;
    if (reader->Read(&chunk)) ttft_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    while (reader->Read(&chunk)) {
    }
    (void)reader->Finish();
    warden::v1::ModerateRequest moderate;
    moderate.add_texts(text);
    warden::v1::ModerateResponse response;
    grpc::ClientContext context2;
    Authorize(&context2);
    const auto t1 = Clock::now();
    if (stub->Moderate(&context2, moderate, &response).ok()) {
      check_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
    }
  }
  std::printf(
      "{\"cores\": %u, \"moderate_clients\": %d, \"moderate_requests\": %zu, \"moderate_errors\": %d, "
      "\"moderate_requests_per_s\": %.1f, \"moderate_p50_ms\": %.3f, \"moderate_p99_ms\": %.3f, "
      "\"stream_first_message_ms_p50\": %.3f, \"input_checks_ms_p50\": %.3f}\n",
      std::thread::hardware_concurrency(), absl::GetFlag(FLAGS_clients), latencies_ms.size(), errors.load(),
      latencies_ms.size() / elapsed, Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
      Percentile(ttft_ms, 0.5), Percentile(check_ms, 0.5));
  return 0;
}
