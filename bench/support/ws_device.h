// A simulated device for the benchmarks: an asynchronous WebSocket client (Boost.Beast,
// C++20 coroutines) that many of can share one thread, so that the client side takes as
// little of the machine's two cores as possible from the server it measures.
//
// Thread safety: a WsDevice belongs to the coroutine that runs it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "safer/protocol.h"
#include "safer/protocol_json.h"

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class WsDevice {
 public:
  explicit WsDevice(asio::any_io_executor executor) : ws_(executor) {}

  // TCP connect, upgrade with the device's token, hello (announcing `capabilities`) → welcome.
  // `token` and `device_id` must outlive the call.
  asio::awaitable<safer::Welcome> open(unsigned short port, const std::string& token, const std::string& device_id,
                                       std::vector<std::string> capabilities = {}) {
    co_await beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                                        asio::use_awaitable);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& request) {
      request.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws_.read_message_max(8 * 1024 * 1024);
    co_await ws_.async_handshake("127.0.0.1", "/v1/sync", asio::use_awaitable);
    ws_.text(true);
    // No temporaries across co_await in one expression: GCC 12 destroys some of them twice.
    safer::Hello hello{1, device_id, "bench", std::move(capabilities)};
    const std::string text = safer::to_json(hello);
    std::string reply = co_await exchange(text);
    const auto answer = decode(reply);
    if (const auto* welcome = std::get_if<safer::Welcome>(&answer)) co_return *welcome;
    throw std::runtime_error("no welcome for " + device_id);
  }

  // Sends one text message and reads the answer.
  asio::awaitable<std::string> exchange(const std::string& text) {
    co_await ws_.async_write(asio::buffer(text), asio::use_awaitable);
    co_return co_await receive();
  }

  asio::awaitable<std::string> receive() {
    buffer_.clear();
    co_await ws_.async_read(buffer_, asio::use_awaitable);
    co_return beast::buffers_to_string(buffer_.data());
  }

  // Sends a push and checks that the answer acknowledges up to `last_seq` with no rejection.
  asio::awaitable<void> push(const std::string& text, std::int64_t last_seq) {
    std::string reply = co_await exchange(text);
    const auto answer = decode(reply);
    const auto* ack = std::get_if<safer::Ack>(&answer);
    if (ack == nullptr) throw std::runtime_error("push answered with something else than an ack");
    if (ack->acked_seq != last_seq || !ack->rejected.empty()) {
      throw std::runtime_error("push not acknowledged cleanly: acked_seq " + std::to_string(ack->acked_seq) +
                               ", " + std::to_string(ack->rejected.size()) + " rejected" +
                               (ack->rejected.empty() ? "" : " (" + ack->rejected.front().message + ")"));
    }
  }

  // Sends a message without waiting for its answer (several pushes in flight).
  asio::awaitable<void> send(const std::string& text) {
    co_await ws_.async_write(asio::buffer(text), asio::use_awaitable);
  }

  // Reads the next answer, which must be an ack (rejections are the caller's to count).
  asio::awaitable<safer::Ack> read_ack() {
    std::string reply = co_await receive();
    auto answer = decode(reply);
    auto* ack = std::get_if<safer::Ack>(&answer);
    if (ack == nullptr) throw std::runtime_error("push answered with something else than an ack");
    co_return std::move(*ack);
  }

  asio::awaitable<void> close() {
    beast::error_code ignored;
    co_await ws_.async_close(websocket::close_code::normal, asio::redirect_error(asio::use_awaitable, ignored));
  }

  websocket::stream<beast::tcp_stream>& stream() { return ws_; }

 private:
  static safer::ServerMessage decode(const std::string& text) {
    auto message = safer::decode_server_message(text);
    if (!message) throw std::runtime_error("undecodable answer: " + text.substr(0, 200));
    if (const auto* error = std::get_if<safer::ErrorMessage>(&*message)) {
      throw std::runtime_error("server error " + error->code + ": " + error->message);
    }
    return std::move(*message);
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

}  // namespace bench
