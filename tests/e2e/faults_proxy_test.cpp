// The fault-injection proxy (tests/support/tcp_proxy.h) does what the fault tests rely on:
// it forwards bytes both ways, delays them, cuts a connection at the chosen byte or reply,
// refuses connections and cuts them all on demand. Checked against a loopback echo server.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tcp_proxy.h"

namespace {

using namespace std::chrono_literals;
using test_support::TcpProxy;

// Reads and writes on `fd` give up after 5 s, so that no test can hang on a socket.
void set_timeouts(int fd) {
  const timeval five_seconds{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);
}

sockaddr_in loopback(unsigned short port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

// Echoes each connection's bytes back, one connection at a time, and counts what each sent.
class EchoServer {
 public:
  EchoServer() : listener_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    auto address = loopback(0);
    socklen_t length = sizeof address;
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(listener_, 16) == 0);
    REQUIRE(getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    shutdown(listener_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listener_);
  }
  unsigned short port() const { return port_; }
  // Bytes received on each finished connection, in order; waits up to 5 s for `count` of them.
  std::vector<std::size_t> received(std::size_t count) const {
    for (int i = 0; i < 500 && finished() < count; ++i) std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  std::size_t finished() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  void serve() {
    for (int fd; (fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; close(fd)) {
      set_timeouts(fd);
      std::size_t total = 0;
      char buffer[4096];
      for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0; total += static_cast<std::size_t>(n)) {
        if (write(fd, buffer, static_cast<std::size_t>(n)) != n) break;
      }
      std::lock_guard lock(mutex_);
      received_.push_back(total);
    }
  }

  int listener_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::size_t> received_;
};

// A client connection to the proxy.
class Client {
 public:
  explicit Client(unsigned short port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    set_timeouts(fd_);
    const auto address = loopback(port);
    REQUIRE(connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { close(fd_); }
  void send(const std::string& bytes) const {
    (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);  // may fail once cut
  }
  // Up to `count` bytes: fewer when the connection ends first.
  std::string read(std::size_t count) const {
    std::string bytes;
    char buffer[4096];
    for (ssize_t n; bytes.size() < count && (n = ::read(fd_, buffer, std::min(sizeof buffer, count - bytes.size()))) > 0;) {
      bytes.append(buffer, static_cast<std::size_t>(n));
    }
    return bytes;
  }

 private:
  int fd_;
};

}  // namespace

// Why: the fault tests trust the proxy to pass traffic intact and to cut exactly where told.
TEST_CASE("the test proxy forwards both ways, delays, and cuts at the chosen byte", "[faults][proxy]") {
  EchoServer echo;
  TcpProxy proxy(echo.port());
  proxy.set_latency(30ms);
  const auto started = std::chrono::steady_clock::now();
  {
    const Client client(proxy.port());
    client.send("hello");
    CHECK(client.read(5) == "hello");
  }
  CHECK(std::chrono::steady_clock::now() - started >= 60ms);  // held once each way
  proxy.set_latency(0ms);

  proxy.cut_at_random_offsets(TcpProxy::Direction::client_to_server, 1.0, 1000, 1000);
  {
    const Client client(proxy.port());
    client.send(std::string(5000, 'c'));
    CHECK(client.read(5000).size() <= 1000);
  }
  CHECK(echo.received(2).at(1) == 1000);  // the server got exactly the bytes before the cut

  proxy.stop_cutting();
  proxy.cut_at_random_offsets(TcpProxy::Direction::server_to_client, 1.0, 10, 10);
  {
    const Client client(proxy.port());
    client.send(std::string(100, 's'));
    CHECK(client.read(100) == std::string(10, 's'));
  }
  CHECK(proxy.connections_cut() == 2);
}

// Why: the fault tests refuse connections, cut them all, and kill a server at an exact reply.
TEST_CASE("the test proxy refuses connections, cuts them all, and cuts at a server reply", "[faults][proxy]") {
  EchoServer echo;
  TcpProxy proxy(echo.port());

  proxy.refuse_new_connections(true);
  {
    const Client client(proxy.port());
    client.send("x");
    CHECK(client.read(1).empty());
  }
  CHECK(proxy.connections_refused() == 1);
  proxy.refuse_new_connections(false);

  std::atomic<int> fired{0};
  proxy.arm_cut_at_server_reply(2, [&] { ++fired; });
  {
    const Client client(proxy.port());
    client.send("a");
    CHECK(client.read(1) == "a");  // reply 1 passes
    client.send("b");
    CHECK(client.read(1).empty());  // reply 2 is cut before its first byte
  }
  CHECK(fired == 1);
  CHECK(proxy.reply_cuts() == 1);

  const Client after(proxy.port());  // the trigger fired once only: replies pass again
  after.send("c");
  CHECK(after.read(1) == "c");
  after.send("d");
  CHECK(after.read(1) == "d");
  proxy.cut_all();
  CHECK(after.read(1).empty());
  CHECK(proxy.connections_cut() == 2);  // at the reply, and by cut_all
}
