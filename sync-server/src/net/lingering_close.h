// The server's TCP stream type, whose WebSocket teardown drains before it closes.
//
// Why: when a WebSocket is failed (a message over the limit: close code 1009) the peer is
// often still sending. Beast's teardown for TCP shuts the sending side down and means to read
// until the peer's FIN, but it stops after the first chunk it reads (it tests an argument that
// is always 0, boost/beast/websocket/impl/teardown.hpp), then closes the socket with unread
// bytes queued. The kernel then answers with a TCP RST, and the peer drops the close frame
// still in its receive buffer: it sees 1006 instead of 1009 (issue 12, 3 runs in 5 with 2 MiB).
//
// LingeringStream is beast::tcp_stream with a rate policy of its own type, so that
// async_teardown() below (found by argument-dependent lookup, and more specialised than
// Beast's) runs instead: shut down sending, read and discard until the peer's FIN or until
// `drain_time` has passed, then close. WebSocket teardown (every close, clean or failed) goes
// through it, and HttpSession::close() calls it for plain HTTP.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/rate_policy.hpp>
#include <boost/beast/core/role.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace sync_server::net {

// beast::unlimited_rate_policy, plus how long a closing WebSocket drains what the peer sends.
struct LingeringClose : boost::beast::unlimited_rate_policy {
  std::chrono::milliseconds drain_time{10'000};
};

using LingeringStream =
    boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::any_io_executor, LingeringClose>;

namespace detail {

// Shut down sending (server role), then read and discard until end of stream, an error or the
// deadline, then close. Completes with no error: the connection is over either way.
class DrainThenClose {
 public:
  DrainThenClose(boost::beast::role_type role, LingeringStream& stream)
      : role_(role), stream_(stream), buffer_(std::make_unique<std::array<char, 16 * 1024>>()) {}

  template <class Self>
  void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t = 0) {
    if (!started_) {
      started_ = true;
      boost::beast::error_code ignored;
      if (role_ == boost::beast::role_type::server) {
        stream_.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
      }
      stream_.expires_after(stream_.rate_policy().drain_time);
    } else if (ec) {  // end of stream, the deadline, a reset: nothing more to wait for
      stream_.expires_never();
      boost::beast::error_code ignored;
      stream_.socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
      stream_.socket().close(ignored);
      return self.complete({});
    }
    stream_.async_read_some(boost::asio::buffer(*buffer_), std::move(self));
  }

 private:
  boost::beast::role_type role_;
  LingeringStream& stream_;
  std::unique_ptr<std::array<char, 16 * 1024>> buffer_;
  bool started_ = false;
};

}  // namespace detail

// Beast's customisation point for closing the transport of a WebSocket (see above).
template <class TeardownHandler>
auto async_teardown(boost::beast::role_type role, LingeringStream& stream, TeardownHandler&& handler) {
  using Handler = std::decay_t<TeardownHandler>;
  Handler owned(std::forward<TeardownHandler>(handler));
  return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(detail::DrainThenClose(role, stream),
                                                                             owned, stream);
}

}  // namespace sync_server::net
