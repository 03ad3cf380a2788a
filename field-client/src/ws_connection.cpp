#include "ws_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "safer/protocol.h"

namespace field_client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

safer::Error network(const std::string& what) { return safer::Error{"network", what, ""}; }

struct Url {
  std::string host, port, path;
};

std::optional<Url> parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "ws://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Url parsed;
  parsed.path = slash == std::string::npos ? "/v1/sync" : rest.substr(slash);
  if (parsed.path == "/") parsed.path = "/v1/sync";
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    parsed.host = authority;
    parsed.port = "80";
  } else {
    parsed.host = authority.substr(0, colon);
    parsed.port = authority.substr(colon + 1);
  }
  if (parsed.host.size() > 2 && parsed.host.front() == '[') parsed.host = parsed.host.substr(1, parsed.host.size() - 2);
  if (parsed.host.empty() || parsed.port.empty()) return std::nullopt;
  return parsed;
}

}  // namespace

struct WsConnection::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{};

  // Runs the io_context until the started operation completes or the deadline passes, in
  // which case the socket is closed and `ec` says timed out.
  void run(beast::error_code& ec, bool& done) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      beast::get_lowest_layer(ws).cancel();
      beast::get_lowest_layer(ws).close();
      ioc.restart();
      ioc.run();  // let the cancelled operation finish
      ec = beast::error::timeout;
    }
  }
};

WsConnection::WsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsConnection::~WsConnection() = default;

safer::Result<std::unique_ptr<WsConnection>> WsConnection::connect(const std::string& url, const std::string& token,
                                                                   std::chrono::milliseconds timeout) {
  if (url.rfind("wss://", 0) == 0) {
    return safer::Error{"invalid", "wss:// (TLS) is not supported by this build yet; use ws://", "server"};
  }
  const auto parsed = parse_url(url);
  if (!parsed) return safer::Error{"invalid", "the server URL must look like ws://host:port", "server"};

  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  impl->ws.read_message_max(safer::kMaxMessageBytes);
  beast::error_code ec;
  bool done = false;

  tcp::resolver resolver(impl->ioc);
  resolver.async_resolve(parsed->host, parsed->port,
                         [&](beast::error_code resolve_ec, tcp::resolver::results_type results) {
                           if (resolve_ec) {
                             ec = resolve_ec;
                             done = true;
                             return;
                           }
                           beast::get_lowest_layer(impl->ws).async_connect(
                               results, [&](beast::error_code connect_ec, const tcp::endpoint&) {
                                 ec = connect_ec;
                                 done = true;
                               });
                         });
  impl->run(ec, done);
  if (ec) return network("cannot reach " + parsed->host + ":" + parsed->port + ": " + ec.message());

  websocket::response_type response;
  impl->ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& request) {
    request.set(beast::http::field::authorization, "Bearer " + token);
    request.set(beast::http::field::user_agent, "safer-streets-field-client");
  }));
  done = false;
  impl->ws.async_handshake(response, parsed->host + ":" + parsed->port, parsed->path, [&](beast::error_code handshake_ec) {
    ec = handshake_ec;
    done = true;
  });
  impl->run(ec, done);
  if (ec) {
    if (response.result() == beast::http::status::unauthorized) {
      return safer::Error{"unauthorized",
                          "the server refused this device's token (401): it is unknown or was revoked; "
                          "ask a coordinator to enrol the device again",
                          ""};
    }
    if (response.result_int() >= 500) {
      return safer::Error{"unavailable", "the server is unavailable (HTTP " + std::to_string(response.result_int()) + ")", ""};
    }
    return network("the WebSocket handshake with " + parsed->host + ":" + parsed->port + " failed: " + ec.message());
  }
  impl->ws.text(true);
  return std::unique_ptr<WsConnection>(new WsConnection(std::move(impl)));
}

safer::Status WsConnection::send(const std::string& text) {
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_write(asio::buffer(text), [&](beast::error_code write_ec, std::size_t) {
    ec = write_ec;
    done = true;
  });
  impl_->run(ec, done);
  if (ec) return network("sending to the server failed: " + ec.message());
  return {};
}

safer::Result<std::string> WsConnection::receive() {
  beast::error_code ec;
  bool done = false;
  impl_->buffer.clear();
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code read_ec, std::size_t) {
    ec = read_ec;
    done = true;
  });
  impl_->run(ec, done);
  if (ec == websocket::error::closed) {
    const auto reason = impl_->ws.reason();
    return network("the server closed the connection (code " + std::to_string(reason.code) + ")");
  }
  if (ec) return network("receiving from the server failed: " + ec.message());
  return beast::buffers_to_string(impl_->buffer.data());
}

void WsConnection::close() {
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code close_ec) {
    ec = close_ec;
    done = true;
  });
  impl_->run(ec, done);
}

}  // namespace field_client
