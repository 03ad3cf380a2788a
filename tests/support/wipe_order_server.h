// A stand-in for a sync server that was told to wipe a device: it answers every request on
// 127.0.0.1 (port 0, chosen by the system) with HTTP 410 and {"code":"wipe"} at the WebSocket
// upgrade, as protocol.md specifies, or with another status and body for the negative cases.
// The real server side is built elsewhere; this checks the field client's half alone.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <string>
#include <thread>

namespace test_support {

class WipeOrderServer {
 public:
  explicit WipeOrderServer(int status = 410, std::string body = R"({"code":"wipe","message":"a coordinator ordered this device wiped"})")
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), status_(status), body_(std::move(body)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~WipeOrderServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    // Wake the blocking accept with a connection of our own.
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ignored);
    thread_.join();
  }
  WipeOrderServer(const WipeOrderServer&) = delete;
  WipeOrderServer& operator=(const WipeOrderServer&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port()); }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      timeval deadline{5, 0};  // a client that connects and says nothing cannot hold the test
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
      boost::asio::streambuf request;
      boost::asio::read_until(socket, request, "\r\n\r\n", ec);
      if (ec) continue;
      ++requests_;
      const std::string reason = status_ == 410 ? "Gone" : "Refused";
      const std::string reply = "HTTP/1.1 " + std::to_string(status_) + " " + reason +
                                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body_.size()) +
                                "\r\nConnection: close\r\n\r\n" + body_;
      boost::asio::write(socket, boost::asio::buffer(reply), ec);
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const int status_;
  const std::string body_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace test_support
