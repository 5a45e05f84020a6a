#include "gateway/metrics_http.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/process_memory.h"
#include "gateway/memory_report.h"

namespace warden::gateway {

using Clock = std::chrono::steady_clock;

struct MetricsHttpServer::Connection {
  enum class Phase { kReading, kWriting, kDraining };
  int fd = -1;
  Phase phase = Phase::kReading;
  Clock::time_point deadline;
  std::string in;      // the request head so far
  std::string out;     // the response
  size_t sent = 0;
};

namespace {

// Opens a listening TCP socket on `host`:`port` (no SO_REUSEPORT: a second server on a
// used port must fail, not share the scrapes). Returns the socket and the bound port.
absl::StatusOr<std::pair<int, int>> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0) {
    return absl::UnavailableError(absl::StrCat("metrics_listen: cannot resolve host \"", host, "\""));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError("bind failed");
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::make_pair(fd, bound_port);
}

std::string HttpResponse(const std::string& status, const std::string& content_type, const std::string& body,
                         bool head_only, const std::string& extra_headers = "") {
  std::string response = absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                                      "\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                                      "Connection: close\r\n\r\n");
  if (!head_only) response += body;
  return response;
}

std::string PlainError(const std::string& status, const std::string& text, bool head_only = false,
                       const std::string& extra_headers = "") {
  return HttpResponse(status, "text/plain", text + "\n", head_only, extra_headers);
}

// Where the request head ends (after its blank line), or npos while incomplete.
size_t HeadEnd(const std::string& in) {
  const size_t crlf = in.find("\r\n\r\n");
  const size_t lf = in.find("\n\n");
  if (crlf != std::string::npos && (lf == std::string::npos || crlf + 2 <= lf)) return crlf + 4;
  return lf == std::string::npos ? std::string::npos : lf + 2;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(const std::string& address,
                                                                            Metrics* metrics,
                                                                            std::function<void()> before_render) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics_listen must be HOST:PORT, got \"", address, "\""));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  absl::StatusOr<std::pair<int, int>> listening = Listen(host, port);
  if (!listening.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " for metrics (",
                                               listening.status().message() == "bind failed"
                                                   ? "in use by another process, or not a local address"
                                                   : listening.status().message(),
                                               ")"));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(metrics, std::move(before_render)));
  server->listen_fd_ = listening->first;
  server->port_ = listening->second;
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    // The destructor closes listen_fd_ (no thread runs yet).
    return absl::UnavailableError(absl::StrCat("metrics server: cannot create a pipe: ", std::strerror(errno)));
  }
  server->wake_read_fd_ = wake[0];
  server->wake_write_fd_ = wake[1];
  MetricsHttpServer* raw = server.get();
  server->thread_ = std::thread([raw] { raw->Loop(); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (thread_.joinable()) {
    const char stop = 1;
    while (::write(wake_write_fd_, &stop, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_read_fd_, wake_write_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void MetricsHttpServer::Loop() {
  std::vector<Connection> connections;
  std::vector<pollfd> fds;
  Clock::time_point accept_paused_until{};  // out of file descriptors: retry later, not spin
  while (true) {
    Clock::time_point now = Clock::now();
    Clock::time_point wake_at = Clock::time_point::max();
    fds.clear();
    fds.push_back({wake_read_fd_, POLLIN, 0});
    const bool accepting = now >= accept_paused_until;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    if (!accepting) wake_at = accept_paused_until;
    for (const Connection& c : connections) {
      fds.push_back({c.fd, static_cast<short>(c.phase == Connection::Phase::kWriting ? POLLOUT : POLLIN), 0});
      wake_at = std::min(wake_at, c.deadline);
    }
    int timeout_ms = -1;
    if (wake_at != Clock::time_point::max()) {
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count()));
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "warden: metrics server stopped: poll: %s\n", std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) break;
    now = Clock::now();
    std::vector<Connection> kept;
    kept.reserve(connections.size() + 1);
    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      const short events = fds[i + 2].revents;
      bool keep = (events & (POLLERR | POLLNVAL)) == 0;
      if (keep && c.phase != Connection::Phase::kWriting && (events & (POLLIN | POLLHUP))) keep = Read(c);
      if (keep && c.phase == Connection::Phase::kWriting) keep = Write(c);
      if (keep && now >= c.deadline) keep = false;
      if (keep) {
        kept.push_back(std::move(c));
      } else {
        ::close(c.fd);
      }
    }
    connections.swap(kept);
    if (accepting && (fds[1].revents & POLLIN) && !Accept(connections)) {
      accept_paused_until = now + std::chrono::milliseconds(100);  // out of descriptors or memory
    }
  }
  for (const Connection& c : connections) ::close(c.fd);
}

// Accepts what is waiting (at most kMaxConnections per call). Beyond kMaxConnections open,
// the oldest connection still sending its request is closed (the likeliest to be stale; one
// being answered is about done), else the oldest. False when accepting failed for want of
// descriptors or memory (the caller pauses instead of spinning on a readable socket).
bool MetricsHttpServer::Accept(std::vector<Connection>& connections) {
  for (int accepted = 0; accepted < kMaxConnections; ++accepted) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    if (static_cast<int>(connections.size()) >= kMaxConnections) {
      auto victim = std::find_if(connections.begin(), connections.end(),
                                 [](const Connection& c) { return c.phase == Connection::Phase::kReading; });
      if (victim == connections.end()) victim = connections.begin();
      ::close(victim->fd);
      connections.erase(victim);
    }
    Connection c;
    c.fd = fd;
    c.deadline = Clock::now() + kRequestDeadline;
    connections.push_back(std::move(c));
  }
  return true;
}

bool MetricsHttpServer::Read(Connection& c) {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (n == 0) return false;  // the peer closed (or, draining, finished)
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (c.phase == Connection::Phase::kDraining) continue;
    c.in.append(buffer, static_cast<size_t>(n));
    const size_t end = HeadEnd(c.in);
    if (end == std::string::npos && c.in.size() <= kMaxRequestBytes) continue;
    c.out = end != std::string::npos && end <= kMaxRequestBytes
                ? Respond(c.in.substr(0, end))
                : PlainError("431 Request Header Fields Too Large",
                             absl::StrCat("request head over ", kMaxRequestBytes, " bytes"));
    c.in.clear();
    c.phase = Connection::Phase::kWriting;
    c.deadline = Clock::now() + kResponseDeadline;
    return true;
  }
}

// Sends what the socket takes; once all is sent, half-closes and drains the peer's
// leftovers until it closes (closing with unread input would reset the connection and
// could destroy the response in flight).
bool MetricsHttpServer::Write(Connection& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
  }
  ::shutdown(c.fd, SHUT_WR);
  c.out.clear();
  c.phase = Connection::Phase::kDraining;
  return true;
}

std::string MetricsHttpServer::Respond(const std::string& head) {
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  const std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
    return PlainError("400 Bad Request", "expected an HTTP/1.x request line");
  }
  const bool head_only = parts[0] == "HEAD";
  if (parts[0] != "GET" && !head_only) {
    return PlainError("405 Method Not Allowed", "only GET /metrics is served", false, "Allow: GET, HEAD\r\n");
  }
  const std::string path = parts[1].substr(0, parts[1].find('?'));
  if (path != "/metrics") return PlainError("404 Not Found", "only GET /metrics is served", head_only);
  RecordProcessMemory(ReadProcessMemory(), *metrics_);
  if (before_render_) before_render_();
  return HttpResponse("200 OK", "text/plain; version=0.0.4", metrics_->RenderPrometheus(), head_only);
}

}  // namespace warden::gateway
