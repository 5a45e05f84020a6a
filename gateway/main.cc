// warden: the gateway server.
//   warden --config FILE [--listen HOST:PORT] [--port_file PATH] [--model_dir DIR]
// Loads and validates the configuration before serving; exits non-zero with the reasons
// when it is invalid. SIGTERM/SIGINT drain calls in flight (up to the configured grace);
// a second one during the drain, or one during startup, exits at once with 128 + the
// signal. SIGHUP reloads the policies.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "base/process_memory.h"
#include "base/sha256.h"
#include "gateway/config_loader.h"
#include "gateway/engine_runner.h"
#include "gateway/memory_report.h"
#include "gateway/server.h"
#include "model/kernels/openmp_env.h"
#include "model/weight_options.h"
#include "model/weights.h"

ABSL_FLAG(std::string, config, "", "Server configuration file (text-format proto or .json).");
ABSL_FLAG(std::string, listen, "", "Address to bind, e.g. 127.0.0.1:0; overrides the config.");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once SERVING.");
ABSL_FLAG(std::string, model_dir, "",
          "A gpt-oss or gpt-oss-safeguard checkpoint directory; overrides the config (no demo model).");

namespace {

// `bazel run` starts binaries in their runfiles tree; resolve user paths against the
// directory the command was typed in.
std::string FromInvocationDir(const std::string& path) {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || dir == nullptr) return path;
  return std::string(dir) + "/" + path;
}

// The listening address with the port the server got ("127.0.0.1:0" -> "127.0.0.1:45305").
std::string BoundAddress(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || address.substr(colon + 1) != "0") return address;
  return address.substr(0, colon + 1) + std::to_string(port);
}

bool WritePortFile(const std::string& path, int port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(temp.c_str(), path.c_str()) == 0;
}

// True when the configuration accepts one of the documented demo keys.
bool UsesDemoKeys(const warden::v1::ServerConfig& config) {
  const std::string demo = warden::Sha256Hex("warden-demo-key");
  const std::string admin = warden::Sha256Hex("warden-demo-admin");
  for (const auto& app : config.apps()) {
    for (const auto& key : app.api_keys()) {
      if (key.sha256() == demo || key.sha256() == admin) return true;
    }
  }
  return false;
}

// While alive, a thread takes SIGTERM and SIGINT (blocked in every thread) and exits the
// process with 128 + the signal, saying so in one line on stderr naming `stage`. Used
// where waiting would be wrong: during startup (nothing to drain yet; Stop() ends it
// before the main loop's sigwait) and during the drain (a second signal stops waiting).
class SignalExitWatch {
 public:
  explicit SignalExitWatch(const char* stage) : stage_(stage), thread_([this] { Run(); }) {}
  ~SignalExitWatch() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    const timespec poll = {0, 100 * 1000 * 1000};
    while (!stop_) {
      const int signal_number = sigtimedwait(&set, nullptr, &poll);
      if (signal_number > 0) {
        std::cerr << "warden: signal " << signal_number << " during " << stage_ << ", exiting\n";
        std::_Exit(128 + signal_number);
      }
    }
  }
  const char* const stage_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // Last: started once the members above exist.
};

}  // namespace

int main(int argc, char** argv) {
  // The engine's OpenMP workers spin only briefly between matmuls (bounded), so gRPC
  // threads get the cores back quickly; see model/kernels/openmp_env.h.
  warden::model::ReexecWithShortOpenMpSpinIfUnset(argv);
  absl::SetProgramUsageMessage(
      "warden --config FILE [--listen HOST:PORT] [--port_file PATH] [--model_dir DIR]  (--helpfull lists every flag)");
  const std::vector<char*> arguments = absl::ParseCommandLine(argc, argv);
  // warden takes no operands: "--model_dir" without its value before a path, or a path
  // where a flag was meant, would otherwise be ignored without a word.
  if (arguments.size() > 1) {
    std::cerr << "warden: unexpected argument \"" << arguments[1]
              << "\" (warden takes only flags: --config FILE [--listen HOST:PORT] [--port_file PATH] [--model_dir DIR])\n";
    return 2;
  }
  const std::string config_path = FromInvocationDir(absl::GetFlag(FLAGS_config));
  if (config_path.empty()) {
    std::cerr << "warden: --config FILE is required (the default is gateway/config/default.textproto)\n";
    return 2;
  }
  // A file-size limit (or a full quota) must surface as a failed write the audit store can
  // report (requests then fail closed), not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Until the server runs there is nothing to drain: SIGTERM or SIGINT during startup (a
  // model load takes minutes) ends the process at once instead of waiting for it.
  SignalExitWatch startup_watch("startup");

  auto config = warden::gateway::LoadServerConfig(config_path);
  if (!config.ok()) {
    std::cerr << "warden: " << config.status().message() << "\n";
    return 1;
  }
  if (!absl::GetFlag(FLAGS_model_dir).empty()) {
    config->config.mutable_model()->set_model_dir(FromInvocationDir(absl::GetFlag(FLAGS_model_dir)));
    config->config.mutable_model()->set_create_demo_if_missing(false);
  }
  const warden::v1::ModelSettings model_settings = config->config.model();
  const unsigned grace = config->config.shutdown_grace_seconds() == 0 ? 10 : config->config.shutdown_grace_seconds();
  auto server = warden::gateway::WardenServer::Start(*std::move(config), {absl::GetFlag(FLAGS_listen)});
  if (!server.ok()) {
    std::cerr << "warden: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "warden: SERVING on " << BoundAddress((*server)->address(), (*server)->port()) << " (port "
            << (*server)->port() << ")\n";
  std::cout << "warden: model " << model_settings.model_dir() << "\n";
  const auto storage = warden::model::InspectCheckpointStorage(model_settings.model_dir());
  if (storage.ok() && storage->unquantised_experts) {
    std::cout << "warden: the checkpoint stores its experts unquantised (a bf16 fine-tune or upload); they were "
                 "quantised to MXFP4 at load, as the released gpt-oss checkpoints are\n";
  }
  if (storage.ok() && storage->copies_weights) {
    std::cout << "warden: the weights were copied at load (quantised or rounded to bf16); the checkpoint file stays "
                 "mapped whatever model.weight_memory says\n";
  }
  const auto residency = warden::model::ParseResidency(model_settings.weight_memory());
  // A checkpoint whose weights are copied at load is not made resident (ModelWeights::Load).
  const bool weights_resident = residency.ok() && *residency == warden::model::Residency::kResident &&
                                !(storage.ok() && storage->copies_weights);
  for (const std::string& line : warden::gateway::MemoryReportLines(warden::ReadProcessMemory(), weights_resident)) {
    std::cout << "warden: " << line << "\n";
  }
  if (warden::gateway::IsDemoCheckpoint(model_settings.model_dir())) {
    std::cout << "warden: this is the tiny RANDOM demo checkpoint (its answers are mostly empty: random tokens rarely\n"
                 "        form a harmony message); for real answers start with\n"
                 "        --model_dir /path/to/gpt-oss-20b  (or a gpt-oss-safeguard checkpoint for policy classification)\n";
  }
  if ((*server)->metrics_port() != 0) {
    std::cout << "warden: metrics on http://127.0.0.1:" << (*server)->metrics_port() << "/metrics\n";
  }
  if (UsesDemoKeys((*server)->config())) {
    std::cout << "warden: demo keys \"warden-demo-key\" (app demo) and \"warden-demo-admin\" (admin) "
                 "are for local trials only; replace them before exposing this server\n";
  }
  std::cout << std::flush;
  startup_watch.Stop();
  const std::string port_file = FromInvocationDir(absl::GetFlag(FLAGS_port_file));
  if (!port_file.empty() && !WritePortFile(port_file, (*server)->port())) {
    std::cerr << "warden: cannot write port file " << port_file << "\n";
    return 1;
  }
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      const auto reload = (*server)->ReloadPolicies();
      if (reload.reloaded) {
        std::cout << "warden: policies reloaded, version " << reload.version << "\n" << std::flush;
      } else {
        std::cerr << "warden: policy reload refused, keeping version " << reload.version << ":\n";
        for (const auto& error : reload.errors) {
          std::cerr << "  " << error.file() << ":" << error.line() << ": "
                    << (error.field().empty() ? "" : error.field() + ": ") << error.message() << "\n";
        }
      }
      continue;
    }
    std::cout << "warden: signal " << signal_number << ", draining for up to " << grace
              << " s (a second SIGTERM or SIGINT exits at once)\n"
              << std::flush;
    break;
  }
  // Calls still running can hold the drain for the whole grace period; an operator's
  // second signal ends the process without waiting for them.
  SignalExitWatch drain_watch("the drain");
  (*server)->Shutdown(std::chrono::seconds(grace));
  std::cout << "warden: stopped\n";
  return 0;
}
