// Loads the server configuration file (text-format proto, or JSON when the file name ends
// in .json) and validates it completely before anything is started.
//
// Every problem is reported as "FILE:LINE:COLUMN: FIELD: message" (line and column are
// 1-based; JSON files report no line). Loading is a pure function of the file; thread-safe.
#ifndef WARDEN_GATEWAY_CONFIG_LOADER_H_
#define WARDEN_GATEWAY_CONFIG_LOADER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace warden::gateway {

// Sequences decoded together when the config does not say (ModelSettings.max_running_sequences).
inline constexpr int kDefaultRunningSequences = 8;
// The most ModelSettings.max_running_sequences may ask for (each is a delivery thread).
inline constexpr int kMaxRunningSequences = 256;
// The most engine threads ModelSettings.threads may ask for: far more than any machine's
// cores, and few enough to start (100,000 ran the process out of threads and aborted it).
inline constexpr uint32_t kMaxModelThreads = 1024;
// The largest ModelSettings.kv_cache_bytes (1 EiB): the engine takes the budget as a signed
// 64-bit count and divides and adds to it, so larger values wrapped negative.
inline constexpr uint64_t kMaxKvCacheBytes = uint64_t{1} << 60;
// How long a stream's write may wait for a client that stopped reading before the call is
// cancelled (ServerConfig.stream_write_timeout_seconds): when unset, and at most.
inline constexpr uint32_t kDefaultStreamWriteTimeoutSeconds = 30;
inline constexpr uint32_t kMaxStreamWriteTimeoutSeconds = 3600;
// Upper bounds of an app's limits (proto/config.proto's Limits): a request's bytes (gRPC
// reads at most 64 MiB, this plus 1 MiB) and its output tokens (above any gpt-oss context,
// and small enough that the token estimates cannot overflow).
inline constexpr uint32_t kMaxRequestBytesLimit = 63u << 20;
inline constexpr uint32_t kMaxOutputTokensLimit = 1u << 20;
inline constexpr uint32_t kMaxModerateBatchLimit = 4096;

// Where a value is written in the config file: 1-based; 0 = unknown (JSON files).
struct FieldLocation {
  int line = 0;
  int column = 0;
};

// The configuration with every relative path resolved against the config file's folder.
struct LoadedConfig {
  v1::ServerConfig config;
  std::string path;      // The file it came from.
  std::string base_dir;  // Its folder.
  // Where each app's policy set ids are written, keyed "apps[A].input_policy_sets[I]" (and
  // output_policy_sets): whether a set exists is known only once the policy files load,
  // and the error should still point at the line.
  std::map<std::string, FieldLocation> policy_set_locations;
};

// Reads, parses and validates `path`. INVALID_ARGUMENT lists every problem found
// (not just the first); NOT_FOUND when the file cannot be read.
absl::StatusOr<LoadedConfig> LoadServerConfig(const std::string& path);

// Parses and validates config text as if it came from `path` (for tests and the admin
// ValidatePolicies path). Relative paths are resolved against `base_dir`.
absl::StatusOr<LoadedConfig> ParseServerConfig(const std::string& text, const std::string& path,
                                               const std::string& base_dir);

// ServerConfig.stream_write_timeout_seconds with its default applied.
inline uint32_t StreamWriteTimeoutSeconds(const v1::ServerConfig& config) {
  const uint32_t seconds = config.stream_write_timeout_seconds();
  return seconds == 0 ? kDefaultStreamWriteTimeoutSeconds : seconds;
}

// A listening address: "HOST:PORT" with a port of 0 to 65535 (0: any free port), HOST a
// name, an IPv4 address or a bracketed IPv6 address ("[::1]:50051"); with `allow_unix`,
// also "unix:PATH" or "unix-abstract:NAME" (gRPC listens there). gRPC itself takes
// "localhost" as port 443 and "127.0.0.1:70000" as port 4464, so the check comes first.
// With `empty_host_is_any`, ":PORT" is every interface (the metrics server). INVALID_ARGUMENT
// saying what is wrong (without the field's name).
absl::Status ValidateListenAddress(const std::string& address, bool allow_unix, bool empty_host_is_any = false);

// Whether two valid addresses would bind the same port: the same port (not 0) on the same
// host, or one on every address ([::] or an empty host, dual-stack), or 0.0.0.0 beside an
// IPv4 address. UNIX sockets have no port.
bool SameListenPort(const std::string& a, const std::string& b);

// `relative` resolved against `base_dir` unless it is absolute or empty.
std::string ResolvePath(const std::string& base_dir, const std::string& relative);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_CONFIG_LOADER_H_
