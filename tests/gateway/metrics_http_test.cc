// The metrics HTTP server on a loopback port, with real sockets: what it answers, and that
// peers which trickle, stall or flood cannot keep a scrape from getting through.
#include "gateway/metrics_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gateway/metrics.h"

namespace warden::gateway {
namespace {

// A blocking client socket to 127.0.0.1:`port` whose reads give up after `timeout_s`.
int Connect(int port, int timeout_s = 20) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

// Everything the server sends until it closes ("" if the read timed out first).
std::string ReadAll(int fd) {
  std::string all;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return all;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? std::string() : all;
    all.append(buffer, static_cast<size_t>(n));
  }
}

std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string response = ReadAll(fd);
  ::close(fd);
  return response;
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_.Increment("warden_rule_hits_total", {{"rule", "test_rule"}});
    auto server = MetricsHttpServer::Start("127.0.0.1:0", &metrics_, [this] { ++renders_; });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }
  Metrics metrics_;
  std::atomic<int> renders_{0};
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpTest, ServesMetricsAndRefusesEverythingElseClearly) {
  const std::string ok = Exchange(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(ok, "HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "Content-Type: text/plain; version=0.0.4\r\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "\nwarden_rule_hits_total{rule=\"test_rule\"} 1\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "warden_process_")) << ok;  // memory gauges recorded at the scrape
  EXPECT_EQ(renders_.load(), 1);
  const std::string with_query = Exchange(server_->port(), "GET /metrics?name[]=x HTTP/1.0\n\n");
  EXPECT_TRUE(absl::StartsWith(with_query, "HTTP/1.1 200 OK\r\n")) << with_query;
  const std::string head = Exchange(server_->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(absl::EndsWith(head, "\r\n\r\n")) << head;  // no body

  EXPECT_TRUE(absl::StartsWith(Exchange(server_->port(), "GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 "));
  const std::string post = Exchange(server_->port(), "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_TRUE(absl::StartsWith(post, "HTTP/1.1 405 ")) << post;
  EXPECT_TRUE(absl::StrContains(post, "Allow: GET, HEAD\r\n")) << post;
  EXPECT_TRUE(absl::StartsWith(Exchange(server_->port(), "\x16\x03\x01 hello\r\n\r\n"), "HTTP/1.1 400 "));
  const std::string huge = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(absl::StartsWith(Exchange(server_->port(), huge), "HTTP/1.1 431 "));
}

// 100 peers (beyond kMaxConnections) that each send part of a request and then one byte
// every 200 ms, for as long as the test runs: each is cut at its whole-request deadline
// or when newer peers need its place, and scrapes get through meanwhile. (With one worker
// per connection and only a per-read timeout, as before, no scrape got through.)
TEST_F(MetricsHttpTest, TricklingPeersCannotHoldUpAScrape) {
  std::vector<int> peers;
  for (int i = 0; i < 100; ++i) {
    peers.push_back(Connect(server_->port()));
    ::send(peers.back(), "GET /metr", 9, MSG_NOSIGNAL);
  }
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done) {
      for (int fd : peers) ::send(fd, "i", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (int scrape = 0; scrape < 3; ++scrape) {
    const std::string response = Exchange(server_->port(), "GET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << "scrape " << scrape << ": " << response;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  // Every trickling peer is eventually closed by the server (its recv sees the end
  // within the 20 s receive timeout instead of timing out).
  done = true;
  trickle.join();
  for (int fd : peers) {
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "a trickling peer is still open";
    ::close(fd);
  }
}

// A client that sends its request but never reads a large response, and one that connects
// and says nothing: neither stops the next scrape, and destroying the server with them
// still connected returns.
TEST_F(MetricsHttpTest, SilentAndNonReadingPeersAreDroppedAndShutdownReturns) {
  for (int i = 0; i < 5000; ++i) metrics_.Increment("warden_rule_hits_total", {{"rule", "padding_" + std::to_string(i)}});
  const int silent = Connect(server_->port());
  const int greedy = Connect(server_->port());
  const std::string request = "GET /metrics HTTP/1.1\r\n\r\n";
  for (int i = 0; i < 50; ++i) ::send(greedy, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string response = Exchange(server_->port(), request);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response.substr(0, 100);
  server_.reset();
  ::close(silent);
  ::close(greedy);
}

TEST(MetricsHttp, AddressErrorsAreClear) {
  Metrics metrics;
  auto bad = MetricsHttpServer::Start("127.0.0.1", &metrics);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "HOST:PORT")) << bad.status();
  EXPECT_EQ(MetricsHttpServer::Start("127.0.0.1:70000", &metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = MetricsHttpServer::Start("127.0.0.1:0", &metrics);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsHttpServer::Start("127.0.0.1:" + std::to_string((*first)->port()), &metrics);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use")) << second.status();
  auto ipv6 = MetricsHttpServer::Start("[::1]:0", &metrics);
  if (ipv6.ok()) {  // hosts without IPv6 refuse it: fine
    EXPECT_GT((*ipv6)->port(), 0);
  }
  EXPECT_FALSE(MetricsHttpServer::Start("no-such-host.invalid:0", &metrics).ok());
}

}  // namespace
}  // namespace warden::gateway
