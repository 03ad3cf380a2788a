// protocol.md §6 (shutdown) and the server's timeouts, against the real sync-server: a silent
// TCP peer is dropped after --handshake-timeout, a silent WebSocket after --idle-timeout, and
// SIGTERM closes open WebSockets with 1001, finishes pushes in flight and exits 0.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;
using Clock = std::chrono::steady_clock;

// A plain TCP connection to 127.0.0.1:port, closed (by its fd) when it goes out of scope.
class RawSocket {
 public:
  explicit RawSocket(unsigned short port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(fd_ >= 0);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void send_text(const std::string& text) { REQUIRE(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size())); }

  // How long until the server closed the connection (end of file or reset); nullopt when it
  // was still open at `deadline`. Anything the server sends first is read and dropped.
  std::optional<Clock::duration> time_to_close(std::chrono::milliseconds deadline) {
    const auto start = Clock::now();
    while (Clock::now() - start < deadline) {
      pollfd waiting{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - (Clock::now() - start));
      if (::poll(&waiting, 1, static_cast<int>(std::max<long long>(left.count(), 1))) <= 0) continue;
      char buffer[512];
      if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return Clock::now() - start;
    }
    return std::nullopt;
  }

 private:
  int fd_;
};

std::string households_push(int count) {
  std::string text = R"({"type":"push","changes":[)";
  for (int n = 1; n <= count; ++n) {
    text += std::string(n > 1 ? "," : "") + R"({"seq":)" + std::to_string(n) + R"(,"entity":"household","op":"upsert","id":")" +
            uuid(n) + R"(","hlc":")" + hlc_now() + R"(","data":{"address":")" + std::to_string(n) +
            R"( Example Road","postcode":"WD6 1WA","ward":"Elstree"}})";
  }
  return text + "]}";
}

}  // namespace

TEST_CASE("a TCP peer that sends nothing, or half a request, is closed after the handshake timeout", "[e2e][contract][lifecycle]") {
  // A silent or slow client must not hold a server connection open for ever.
  ServerProcess server({"--handshake-timeout", "0.5"});
  server.start();
  RawSocket silent(server.port());
  RawSocket half(server.port());
  half.send_text("GET /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");  // no blank line

  for (auto* socket : {&silent, &half}) {
    const auto closed_after = socket->time_to_close(5s);
    REQUIRE(closed_after);
    CHECK(*closed_after < 3s);
  }
}

TEST_CASE("an upgraded connection is not subject to the handshake timeout", "[e2e][contract][lifecycle]") {
  // The positive pair of the handshake timeout: a synced device stays connected while quiet.
  ServerProcess server({"--handshake-timeout", "0.3"});
  server.start();
  auto client = join(server, "tab-cat-1", server.enroll("tab-cat-1", "coord.cat", "coordinator"));
  std::this_thread::sleep_for(1s);
  CHECK(str(parse(client->request(R"({"type":"pull","cursor":""})")), "type") == "changes");
}

TEST_CASE("a WebSocket that neither sends nor answers pings is dropped after the idle timeout, an active one is not", "[e2e][contract][lifecycle]") {
  // Dead tablets (no pong) must not pile up connections, while working ones keep theirs.
  ServerProcess server({"--idle-timeout", "1"});
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  auto silent = join(server, "tab-cat-1", token);  // never reads, so never answers a ping
  auto active = join(server, "tab-cat-1", token);
  const auto start = Clock::now();
  while (Clock::now() - start < 3s) {
    REQUIRE(str(parse(active->request(R"({"type":"pull","cursor":""})")), "type") == "changes");
    std::this_thread::sleep_for(250ms);
  }
  CHECK_FALSE(silent->request(R"({"type":"pull","cursor":""})", 2s).has_value());
  CHECK(str(parse(active->request(R"({"type":"pull","cursor":""})")), "type") == "changes");
}

TEST_CASE("SIGTERM closes an idle WebSocket with 1001 and the server exits 0 promptly", "[e2e][contract][lifecycle]") {
  // protocol.md §6: clients must see a clean, retryable close when the server is stopped.
  ServerProcess server;  // --shutdown-grace stays at its 10 s default: closing must not wait for it
  server.start();
  auto client = join(server, "tab-cat-1", server.enroll("tab-cat-1", "coord.cat", "coordinator"));
  auto stopping = std::async(std::launch::async, [&server] {
    const auto start = Clock::now();
    const int status = server.stop(15s);
    return std::pair{status, Clock::now() - start};
  });
  CHECK_FALSE(client->receive(10s).has_value());
  CHECK(client->close_code() == 1001);
  const auto [status, took] = stopping.get();
  CHECK(status == 0);
  CHECK(took < 3s);
}

TEST_CASE("SIGTERM with idle HTTP keep-alive and half-sent requests still exits 0 promptly", "[e2e][contract][lifecycle]") {
  // protocol.md §6: stopping must not hang on connections that are not WebSockets.
  ServerProcess server;  // --handshake-timeout stays at 10 s: exiting must not wait for it
  server.start();
  RawSocket keep_alive(server.port());
  keep_alive.send_text("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // the answer is read (and dropped) by time_to_close below
  RawSocket half(server.port());
  half.send_text("GET /api/v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  RawSocket silent(server.port());
  std::this_thread::sleep_for(100ms);

  const auto start = Clock::now();
  CHECK(server.stop(15s) == 0);
  CHECK(Clock::now() - start < 3s);
  for (auto* socket : {&keep_alive, &half, &silent}) CHECK(socket->time_to_close(2s).has_value());
}

TEST_CASE("SIGTERM with a WebSocket peer that never answers the close cuts it after the shutdown grace", "[e2e][contract][lifecycle]") {
  // protocol.md §6: a stuck client may delay shutdown by the grace period, not for ever.
  ServerProcess server({"--shutdown-grace", "1"});
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  auto stuck = join(server, "tab-cat-1", token);  // never reads again
  const auto start = Clock::now();
  REQUIRE(::kill(server.pid(), SIGTERM) == 0);
  std::this_thread::sleep_for(300ms);  // shutting down, held open by the stuck client
  WsTestClient late;  // protocol.md §6.3: it stops accepting
  CHECK_FALSE(late.connect(server.port(), token, 2s).ok);
  const int status = server.stop(15s);
  const auto took = Clock::now() - start;
  CHECK(status == 0);
  CHECK(took < 4s);
}

TEST_CASE("SIGTERM during a push applies all of it or none, and what was acked survives", "[e2e][contract][lifecycle]") {
  // protocol.md §3 and §6: shutdown finishes the transaction in flight and never leaves half a batch.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  auto client = join(server, "tab-cat-1", token);
  REQUIRE(client->send(households_push(1000)));
  std::this_thread::sleep_for(5ms);
  auto stopping = std::async(std::launch::async, [&server] { return server.stop(15s); });
  std::optional<std::int64_t> acked;
  for (auto reply = client->receive(10s); reply; reply = client->receive(10s)) {
    const auto message = parse(reply);
    if (str(message, "type") == "ack") acked = num(message, "acked_seq");
  }
  CHECK(client->close_code() == 1001);
  CHECK(stopping.get() == 0);

  server.start();
  auto again = join(server, "tab-cat-1", token);
  WsTestClient probe;
  REQUIRE(probe.connect(server.port(), token).ok);
  const auto acked_after =
      num(parse(probe.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-1"})")), "acked_seq").value_or(-1);
  const auto page = parse(again->request(R"({"type":"pull","cursor":"","limit":1000})"));
  const auto stored = static_cast<std::int64_t>(page["changes"].Size());
  INFO("acked before shutdown: " << (acked ? std::to_string(*acked) : "none"));
  if (acked) CHECK(acked_after == *acked);
  CHECK((acked_after == 0 || acked_after == 1000));
  CHECK(stored == acked_after);
}
