// wardenctl: command-line client for Warden.
//   wardenctl --target HOST:PORT --api_key KEY [--json] CMD ...
// Commands:
//   generate [--prompt TEXT | --prompt_file PATH] [--stream=false]   stream a completion
//   chat                                     interactive conversation on stdin
//   moderate [TEXT...]                       check texts; with --json, reads JSON lines
//                                            {"text": ...} on stdin, writes one response (or an
//                                            {"error": ...} object) per non-blank line
//   policies list|get ID|validate FILE...|reload
//   audit query [--app ID] [--action A] [--category C] [--since D | --from T --to T] [--limit 1-1000]
//             [--after_sequence N]           (write order: an export that misses nothing)
//   audit follow [filters] [--after_sequence N] [--poll D]   print records as they are written
//   audit show REQUEST_ID
// The key may come from WARDEN_API_KEY instead of --api_key. Exit status: 0 on success,
// 1 on an RPC error (printed as "CODE: message"), 2 on usage errors.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/json_line.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "proto/warden.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Warden address HOST:PORT.");
ABSL_FLAG(std::string, api_key, "", "API key (default: $WARDEN_API_KEY).");
ABSL_FLAG(bool, json, false, "Print responses as JSON (protobuf JSON mapping), one per line.");
ABSL_FLAG(std::string, prompt, "", "generate: the user prompt.");
ABSL_FLAG(std::string, prompt_file, "", "generate: read the user prompt from this file.");
ABSL_FLAG(std::string, instructions, "", "generate/chat: developer instructions.");
ABSL_FLAG(bool, stream, true, "generate: stream the answer (StreamGenerate) instead of Generate.");
ABSL_FLAG(int, max_tokens, 0, "generate/chat: maximum output tokens (0 = the app's limit).");
ABSL_FLAG(double, temperature, -1, "generate/chat: sampling temperature (default: the model's).");
ABSL_FLAG(bool, analysis, false, "generate: ask for the analysis channel (if the app allows it).");
ABSL_FLAG(std::string, direction, "input", "moderate: input or output settings.");
ABSL_FLAG(std::string, policy_file, "", "moderate: a written policy for the LLM policy classifier.");
ABSL_FLAG(std::string, app, "", "audit query: only this app.");
ABSL_FLAG(std::string, action, "", "audit query: only this action (ALLOW, FLAG, REDACT, BLOCK).");
ABSL_FLAG(int, limit, 20,
          "audit query: records per page, 1 to 1000 (a page also ends at 4 MiB of records; "
          "continue with --page_token).");
ABSL_FLAG(std::string, page_token, "", "audit query: continue from this page token.");
ABSL_FLAG(std::string, category, "",
          "audit query: only records with this category flagged or a rule of it fired "
          "(e.g. hate/threatening, self-harm, pii).");
ABSL_FLAG(absl::Duration, since, absl::ZeroDuration(), "audit query: only records of the last DURATION (e.g. 24h).");
ABSL_FLAG(absl::Time, from, absl::InfinitePast(), "audit query: only records at or after this RFC 3339 time.");
ABSL_FLAG(absl::Time, to, absl::InfiniteFuture(), "audit query: only records before this RFC 3339 time.");
ABSL_FLAG(int64_t, after_sequence, -1,
          "audit query: only records written after this sequence number, in write order (-1: newest first); "
          "audit follow: start after it (-1: from now). Each response's next_after_sequence continues.");
ABSL_FLAG(absl::Duration, poll, absl::Seconds(2), "audit follow: how often to ask for new records.");
ABSL_FLAG(int, timeout_ms, 60000, "Deadline of each call.");
ABSL_FLAG(std::string, ca_file, "", "Use TLS, trusting this CA certificate file.");
ABSL_FLAG(std::string, cert_file, "", "TLS client certificate (mutual TLS); needs --key_file.");
ABSL_FLAG(std::string, key_file, "", "TLS client private key (mutual TLS).");
ABSL_FLAG(std::string, tls_server_name, "", "Expected server name in its certificate (default: the target host).");

namespace {

using warden::v1::Admin;
using warden::v1::Warden;

std::string ReadFileOrEmpty(const std::string& path, bool* ok) {
  // ReadFile refuses a directory (it would read as empty: a policy or prompt would go out empty).
  absl::StatusOr<std::string> text = warden::ReadFile(path);
  *ok = text.ok();
  return text.ok() ? *std::move(text) : std::string();
}

[[noreturn]] void Exit(const std::string& message) {
  std::cerr << "wardenctl: " << message << "\n";
  std::exit(2);
}

std::string ReadOrExit(const std::string& path, const char* flag) {
  bool ok = false;
  std::string text = ReadFileOrEmpty(path, &ok);
  if (!ok) Exit(std::string("cannot read ") + flag + " " + path);
  return text;
}

class Client {
 public:
  Client() {
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    const std::string ca = absl::GetFlag(FLAGS_ca_file);
    const std::string cert = absl::GetFlag(FLAGS_cert_file);
    const std::string key = absl::GetFlag(FLAGS_key_file);
    const std::string server_name = absl::GetFlag(FLAGS_tls_server_name);
    // Any TLS flag means TLS, and every file named must be read: never a silent fallback to
    // plaintext (the API key would travel in clear) or to the public roots.
    if (!ca.empty() || !cert.empty() || !key.empty() || !server_name.empty()) {
      if (cert.empty() != key.empty()) Exit("--cert_file and --key_file must be given together");
      grpc::SslCredentialsOptions options;  // No --ca_file: the system's roots.
      if (!ca.empty()) options.pem_root_certs = ReadOrExit(ca, "--ca_file");
      if (!cert.empty()) {
        options.pem_cert_chain = ReadOrExit(cert, "--cert_file");
        options.pem_private_key = ReadOrExit(key, "--key_file");
      }
      credentials = grpc::SslCredentials(options);
      if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    }
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target), credentials, args);
    key_ = absl::GetFlag(FLAGS_api_key);
    if (key_.empty()) {
      const char* env = std::getenv("WARDEN_API_KEY");
      if (env != nullptr) key_ = env;
    }
  }

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!key_.empty()) context->AddMetadata("authorization", "Bearer " + key_);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms)));
    return context;
  }
  Warden::Stub warden() const { return Warden::Stub(channel_); }
  Admin::Stub admin() const { return Admin::Stub(channel_); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string key_;
};

int Fail(const grpc::Status& status) {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                 "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                 "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int code = status.error_code();
  std::cerr << (code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN") << ": " << status.error_message() << "\n";
  // Transport failures only (not a server's own UNAVAILABLE, such as an audit store that cannot write).
  const std::string& message = status.error_message();
  const bool transport = absl::StrContains(message, "failed to connect") || absl::StrContains(message, "Socket closed") ||
                         absl::StrContains(message, "Connection reset");
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && transport && absl::GetFlag(FLAGS_ca_file).empty()) {
    std::cerr << "(no server at " << absl::GetFlag(FLAGS_target)
              << " answered in plaintext: is it running there, or does it use TLS? then pass --ca_file)\n";
  }
  return 1;
}

void Print(const google::protobuf::Message& message) {
  std::string out;
  if (absl::GetFlag(FLAGS_json)) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = false;
    (void)google::protobuf::util::MessageToJsonString(message, &out, options);
    std::cout << out << "\n";
  } else {
    // UTF-8 as written ("écris"), not octal escapes.
    google::protobuf::TextFormat::Printer printer;
    printer.SetUseUtf8StringEscaping(true);
    printer.PrintToString(message, &out);
    std::cout << out;
  }
}

void FillSampling(warden::v1::GenerateRequest* request) {
  if (absl::GetFlag(FLAGS_max_tokens) > 0) {
    request->mutable_sampling()->set_max_output_tokens(absl::GetFlag(FLAGS_max_tokens));
  }
  if (absl::GetFlag(FLAGS_temperature) >= 0) {
    request->mutable_sampling()->set_temperature(static_cast<float>(absl::GetFlag(FLAGS_temperature)));
  }
  request->set_instructions(absl::GetFlag(FLAGS_instructions));
  request->set_return_analysis(absl::GetFlag(FLAGS_analysis));
}

// Streams one request; prints deltas as they arrive and the summary at the end.
int RunStream(const Client& client, const warden::v1::GenerateRequest& request, std::string* answer) {
  auto context = client.Context();
  auto stub = client.warden();
  auto reader = stub.StreamGenerate(context.get(), request);
  warden::v1::GenerateChunk chunk;
  while (reader->Read(&chunk)) {
    if (absl::GetFlag(FLAGS_json)) {
      Print(chunk);
    } else if (chunk.has_delta()) {
      if (chunk.delta().channel() == warden::v1::FINAL && answer != nullptr) *answer += chunk.delta().text();
      std::cout << chunk.delta().text() << std::flush;
    } else if (chunk.has_tool_call()) {
      std::cout << "\n[tool call " << chunk.tool_call().recipient() << "] " << chunk.tool_call().arguments();
    } else if (chunk.has_summary()) {
      const auto& summary = chunk.summary();
      std::cout << "\n-- " << warden::v1::FinishReason_Name(summary.finish_reason())
                << " request_id=" << summary.request_id()
                << " input=" << warden::v1::Action_Name(summary.input_decision().action())
                << " output=" << warden::v1::Action_Name(summary.output_decision().action())
                << " tokens=" << summary.usage().prompt_tokens() << "+" << summary.usage().completion_tokens()
                << "\n";
      if (!summary.output_decision().message().empty()) std::cout << "-- " << summary.output_decision().message() << "\n";
      if (!summary.input_decision().message().empty()) std::cout << "-- " << summary.input_decision().message() << "\n";
      if (!summary.model_format_error().empty()) {
        std::cout << "-- the model's output broke the harmony format: " << summary.model_format_error() << "\n";
      }
    }
  }
  const grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(status);
}

int Generate(const Client& client) {
  std::string prompt = absl::GetFlag(FLAGS_prompt);
  if (!absl::GetFlag(FLAGS_prompt_file).empty()) {
    bool ok = false;
    prompt = ReadFileOrEmpty(absl::GetFlag(FLAGS_prompt_file), &ok);
    if (!ok) {
      std::cerr << "wardenctl: cannot read " << absl::GetFlag(FLAGS_prompt_file) << "\n";
      return 2;
    }
  }
  if (prompt.empty()) {
    std::cerr << "wardenctl generate: give --prompt TEXT or --prompt_file PATH\n";
    return 2;
  }
  warden::v1::GenerateRequest request;
  auto* message = request.add_messages();
  message->set_role(warden::v1::USER);
  message->set_content(prompt);
  FillSampling(&request);
  if (absl::GetFlag(FLAGS_stream)) return RunStream(client, request, nullptr);
  warden::v1::GenerateResponse response;
  auto context = client.Context();
  const grpc::Status status = client.warden().Generate(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  Print(response);
  return 0;
}

int Chat(const Client& client) {
  warden::v1::GenerateRequest request;
  FillSampling(&request);
  std::string line;
  std::cout << "> " << std::flush;
  while (std::getline(std::cin, line)) {
    auto* user = request.add_messages();
    user->set_role(warden::v1::USER);
    user->set_content(line);
    std::string answer;
    const int code = RunStream(client, request, &answer);
    if (code != 0) return code;
    auto* assistant = request.add_messages();
    assistant->set_role(warden::v1::ASSISTANT);
    assistant->set_channel(warden::v1::FINAL);
    assistant->set_content(answer);
    std::cout << "> " << std::flush;
  }
  return 0;
}

// In JSON-lines mode an input line that fails still gets its output line, so a reader can
// pair inputs and outputs: {"error": {"code": "INVALID_ARGUMENT", "message": "..."}} (the
// message also goes to stderr as before).
void PrintErrorLine(absl::StatusCode code, const std::string& message) {
  nlohmann::json line;
  line["error"]["code"] = absl::StatusCodeToString(code);
  line["error"]["message"] = message;
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int ModerateOnce(const Client& client, const std::vector<std::string>& texts, bool error_line = false) {
  warden::v1::ModerateRequest request;
  for (const auto& text : texts) request.add_texts(text);
  request.set_direction(absl::GetFlag(FLAGS_direction) == "output" ? warden::v1::OUTPUT : warden::v1::INPUT);
  if (!absl::GetFlag(FLAGS_policy_file).empty()) {
    bool ok = false;
    request.set_policy(ReadFileOrEmpty(absl::GetFlag(FLAGS_policy_file), &ok));
    if (!ok) {
      std::cerr << "wardenctl: cannot read " << absl::GetFlag(FLAGS_policy_file) << "\n";
      return 2;
    }
  }
  warden::v1::ModerateResponse response;
  auto context = client.Context();
  const grpc::Status status = client.warden().Moderate(context.get(), request, &response);
  if (!status.ok()) {
    if (error_line) PrintErrorLine(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    return Fail(status);
  }
  Print(response);
  return 0;
}

int Moderate(const Client& client, const std::vector<std::string>& args) {
  if (!absl::GetFlag(FLAGS_json) || args.size() > 2) {
    return ModerateOnce(client, std::vector<std::string>(args.begin() + 2, args.end()));
  }
  // JSON lines mode: one request and one output line per non-blank input line (a response,
  // or an error object).
  std::string line;
  int line_number = 0;
  int worst = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    // Blank as the other JSON-lines tools (oss tokenize, classifier score) skip it: a line of
    // spaces or a CRLF file's empty "\r" failed the whole run with exit 2.
    if (warden::IsBlankLine(line)) continue;
    // As the other JSON-lines tools read it: text that is not Unicode becomes U+FFFD.
    std::string parse_error;
    const auto parsed = warden::ParseJsonLine(line, &parse_error);
    if (!parsed.is_object() || !parsed.contains("text") || !parsed["text"].is_string()) {
      const std::string message = absl::StrCat("line ", line_number, ": expected {\"text\": \"...\"}",
                                               parse_error.empty() ? "" : " (" + parse_error + ")");
      std::cerr << "wardenctl moderate: " << message << "\n";
      PrintErrorLine(absl::StatusCode::kInvalidArgument, message);
      worst = 2;
      continue;
    }
    const int code = ModerateOnce(client, {parsed["text"].get<std::string>()}, /*error_line=*/true);
    if (code != 0) worst = code;
  }
  return worst;
}

int Policies(const Client& client, const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "list";
  auto context = client.Context();
  auto stub = client.admin();
  grpc::Status status;
  if (sub == "list") {
    warden::v1::ListPoliciesResponse response;
    status = stub.ListPolicies(context.get(), {}, &response);
    if (status.ok()) Print(response);
  } else if (sub == "get" && args.size() > 3) {
    warden::v1::GetPolicyRequest request;
    request.set_id(args[3]);
    warden::v1::GetPolicyResponse response;
    status = stub.GetPolicy(context.get(), request, &response);
    if (status.ok()) Print(response);
  } else if (sub == "validate") {
    warden::v1::ValidatePoliciesRequest request;
    for (size_t i = 3; i < args.size(); ++i) {
      bool ok = false;
      (*request.mutable_files())[args[i]] = ReadFileOrEmpty(args[i], &ok);
      if (!ok) {
        std::cerr << "wardenctl: cannot read " << args[i] << "\n";
        return 2;
      }
    }
    warden::v1::ValidatePoliciesResponse response;
    status = stub.ValidatePolicies(context.get(), request, &response);
    if (status.ok()) {
      Print(response);
      if (!response.valid()) return 1;
    }
  } else if (sub == "reload") {
    warden::v1::ReloadPoliciesResponse response;
    status = stub.ReloadPolicies(context.get(), {}, &response);
    if (status.ok()) {
      Print(response);
      if (!response.reloaded()) return 1;
    }
  } else {
    std::cerr << "wardenctl policies list|get ID|validate FILE...|reload\n";
    return 2;
  }
  return status.ok() ? 0 : Fail(status);
}

// A category by its text name ("hate/threatening", "prompt-injection") or enum name.
bool ParseCategory(const std::string& name, warden::v1::Category* category) {
  const std::string enum_name = absl::AsciiStrToUpper(absl::StrReplaceAll(name, {{"/", "_"}, {"-", "_"}}));
  return warden::v1::Category_Parse(enum_name, category) && *category != warden::v1::CATEGORY_UNSPECIFIED;
}

// The query's time range from --since or --from/--to; false (with a message) when they
// contradict each other.
bool ReadTimeRange(warden::v1::QueryAuditRequest* request) {
  const absl::Duration since = absl::GetFlag(FLAGS_since);
  absl::Time from = absl::GetFlag(FLAGS_from);
  const absl::Time to = absl::GetFlag(FLAGS_to);
  if (since < absl::ZeroDuration()) {
    std::cerr << "wardenctl: --since must not be negative\n";
    return false;
  }
  if (since > absl::ZeroDuration()) {
    if (from != absl::InfinitePast()) {
      std::cerr << "wardenctl: give --since or --from, not both\n";
      return false;
    }
    from = absl::Now() - since;
  }
  if (from != absl::InfinitePast()) request->set_from_unix_micros(absl::ToUnixMicros(from));
  if (to != absl::InfiniteFuture()) request->set_to_unix_micros(absl::ToUnixMicros(to));
  if (from != absl::InfinitePast() && to != absl::InfiniteFuture() && from >= to) {
    std::cerr << "wardenctl: the time range is empty (--from is not before --to)\n";
    return false;
  }
  return true;
}

// The filters shared by audit query and follow; false (with a message) on a usage error.
bool ReadAuditFilters(warden::v1::QueryAuditRequest* request) {
  request->set_app_id(absl::GetFlag(FLAGS_app));
  warden::v1::Action action = warden::v1::ACTION_UNSPECIFIED;
  if (!absl::GetFlag(FLAGS_action).empty() &&
      !warden::v1::Action_Parse(absl::AsciiStrToUpper(absl::GetFlag(FLAGS_action)), &action)) {
    std::cerr << "wardenctl: unknown action " << absl::GetFlag(FLAGS_action) << " (ALLOW, FLAG, REDACT or BLOCK)\n";
    return false;
  }
  request->set_action(action);
  warden::v1::Category category = warden::v1::CATEGORY_UNSPECIFIED;
  if (!absl::GetFlag(FLAGS_category).empty() && !ParseCategory(absl::GetFlag(FLAGS_category), &category)) {
    std::cerr << "wardenctl: unknown category " << absl::GetFlag(FLAGS_category) << "\n";
    return false;
  }
  request->set_category(category);
  if (!ReadTimeRange(request)) return false;
  const int limit = absl::GetFlag(FLAGS_limit);
  if (limit < 1 || limit > 1000) {
    std::cerr << "wardenctl: --limit must be between 1 and 1000, not " << limit << "\n";
    return false;
  }
  request->set_page_size(limit);
  if (absl::GetFlag(FLAGS_after_sequence) < -1) {
    std::cerr << "wardenctl: --after_sequence must be a sequence number (>= 0)\n";
    return false;
  }
  if (absl::GetFlag(FLAGS_after_sequence) >= 0) request->set_after_sequence(absl::GetFlag(FLAGS_after_sequence));
  return true;
}

// Whether following should ask again after `status` (the server restarting, a slow page).
bool Transient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Prints every record written after --after_sequence (default: from now), in write order,
// polling every --poll, until interrupted or a non-transient error. A stream's record
// appears again when the stream ends (its IN_PROGRESS version first).
int FollowAudit(const Client& client, warden::v1::QueryAuditRequest request) {
  auto stub = client.admin();
  const absl::Duration poll = absl::GetFlag(FLAGS_poll);
  if (poll < absl::Milliseconds(10)) {
    std::cerr << "wardenctl: --poll must be at least 10ms\n";
    return 2;
  }
  if (!request.has_after_sequence()) {
    warden::v1::QueryAuditRequest now;
    now.set_page_size(1);
    warden::v1::QueryAuditResponse response;
    const grpc::Status status = stub.QueryAudit(client.Context().get(), now, &response);
    if (!status.ok()) return Fail(status);
    request.set_after_sequence(response.next_after_sequence());
  }
  for (;;) {
    warden::v1::QueryAuditResponse response;
    const grpc::Status status = stub.QueryAudit(client.Context().get(), request, &response);
    if (!status.ok() && !Transient(status)) return Fail(status);
    if (!status.ok()) std::cerr << "wardenctl: " << status.error_message() << " (retrying)\n";
    for (const auto& record : response.records()) Print(record);
    std::cout.flush();
    const bool more = status.ok() && response.next_after_sequence() != request.after_sequence();
    if (status.ok()) request.set_after_sequence(response.next_after_sequence());
    if (!more || response.next_page_token().empty()) absl::SleepFor(poll);
  }
}

int Audit(const Client& client, const std::vector<std::string>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "query";
  auto context = client.Context();
  auto stub = client.admin();
  grpc::Status status;
  if (sub == "query" || sub == "follow") {
    warden::v1::QueryAuditRequest request;
    if (!ReadAuditFilters(&request)) return 2;
    if (sub == "follow") return FollowAudit(client, request);
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    warden::v1::QueryAuditResponse response;
    status = stub.QueryAudit(context.get(), request, &response);
    if (status.ok()) Print(response);
  } else if (sub == "show" && args.size() > 3) {
    warden::v1::GetAuditRecordRequest request;
    request.set_request_id(args[3]);
    warden::v1::AuditRecord response;
    status = stub.GetAuditRecord(context.get(), request, &response);
    if (status.ok()) Print(response);
  } else {
    std::cerr << "wardenctl audit query [--app ID] [--action A] [--category C] [--since D | --from T --to T] "
                 "[--limit N] [--page_token P] [--after_sequence N] | audit follow [filters] [--after_sequence N] "
                 "[--poll D] | audit show REQUEST_ID\n";
    return 2;
  }
  return status.ok() ? 0 : Fail(status);
}

// A --target HOST:PORT whose port is not a port (gRPC would dial "127.0.0.1:70000" as
// port 4464); other target forms (dns:///..., unix:...) are gRPC's to check.
bool TargetPortIsValid(const std::string& target) {
  if (absl::StrContains(target, "://") || absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:")) {
    return true;
  }
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || target.find(']', colon) != std::string::npos) return true;  // No port given.
  const std::string port = target.substr(colon + 1);
  int number = 0;
  return !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), absl::ascii_isdigit) &&
         absl::SimpleAtoi(port, &number) && number >= 1 && number <= 65535;
}

// The first problem with the flags every command shares, or "" (exit 2 before any call:
// the call would fail with a less telling error, or a value would be silently ignored).
std::string CommonFlagProblem() {
  if (!TargetPortIsValid(absl::GetFlag(FLAGS_target))) {
    return "--target " + absl::GetFlag(FLAGS_target) + ": the port must be a number from 1 to 65535";
  }
  const char* env_key = std::getenv("WARDEN_API_KEY");
  if (absl::GetFlag(FLAGS_api_key).empty() && (env_key == nullptr || *env_key == '\0')) {
    return "no API key: pass --api_key KEY or set WARDEN_API_KEY";
  }
  if (absl::GetFlag(FLAGS_timeout_ms) <= 0) {
    return "--timeout_ms must be positive, not " + std::to_string(absl::GetFlag(FLAGS_timeout_ms));
  }
  const std::string direction = absl::GetFlag(FLAGS_direction);
  if (direction != "input" && direction != "output") return "--direction must be input or output, not " + direction;
  if (absl::GetFlag(FLAGS_max_tokens) < 0) return "--max_tokens must not be negative (0 = the app's limit)";
  const double temperature = absl::GetFlag(FLAGS_temperature);
  if (temperature < 0 && temperature != -1) return "--temperature must not be negative (omit it for the model's)";
  return "";
}

constexpr char kUsage[] =
    "usage: wardenctl --target HOST:PORT --api_key KEY [--json] COMMAND  (--helpfull lists every flag)\n"
    "  generate [--prompt TEXT | --prompt_file PATH] [--stream=false]   a completion (streamed by default)\n"
    "  chat                                     interactive conversation on stdin\n"
    "  moderate [TEXT...]                       check texts (--direction, --policy_file); with --json,\n"
    "                                           JSON lines {\"text\": ...} on stdin, one response (or {\"error\": ...}) per line\n"
    "  policies list | get ID | validate FILE... | reload      (admin key)\n"
    "  audit query [--app ID] [--action A] [--category C] [--since D | --from T --to T] [--limit N]\n"
    "              [--page_token T] [--after_sequence N]       (admin key)\n"
    "  audit follow [filters] [--after_sequence N] [--poll D]  print records as they are written\n"
    "  audit show REQUEST_ID\n"
    "The key may come from WARDEN_API_KEY. Exit status: 0 ok, 1 RPC error, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  const std::vector<std::string> args(positional.begin(), positional.end());
  if (args.size() < 2 || args[1] == "help") {
    std::cerr << kUsage;
    return args.size() < 2 ? 2 : 0;
  }
  const std::string& command = args[1];
  const bool known = command == "generate" || command == "chat" || command == "moderate" ||
                     command == "policies" || command == "audit";
  if (const std::string problem = CommonFlagProblem(); known && !problem.empty()) {
    std::cerr << "wardenctl: " << problem << "\n";
    return 2;
  }
  const Client client;
  if (command == "generate") return Generate(client);
  if (command == "chat") return Chat(client);
  if (command == "moderate") return Moderate(client, args);
  if (command == "policies") return Policies(client, args);
  if (command == "audit") return Audit(client, args);
  std::cerr << "wardenctl: unknown command " << command << "\n";
  return 2;
}
