#include "ws_test_client.h"
#include "http_request_from.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace test_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs `ioc` until `done` or the deadline; on the deadline, closes `socket`.
void run_until(asio::io_context& ioc, bool& done, std::chrono::milliseconds deadline, beast::tcp_stream& stream) {
  ioc.restart();
  ioc.run_for(deadline);
  if (!done) {
    stream.cancel();
    stream.close();
    ioc.restart();
    ioc.run();
  }
}

}  // namespace

struct WsTestClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool closed = false;
};

WsTestClient::WsTestClient() : impl_(std::make_unique<Impl>()) {}
WsTestClient::~WsTestClient() = default;

WsOutcome WsTestClient::connect(unsigned short port, const std::string& token, std::chrono::milliseconds deadline) {
  WsOutcome outcome;
  auto& lowest = beast::get_lowest_layer(impl_->ws);
  beast::error_code ec;
  bool done = false;
  lowest.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, deadline, lowest);
  if (!done || ec) {
    outcome.error = "connect: " + (done ? ec.message() : std::string("timed out"));
    return outcome;
  }
  impl_->ws.read_message_max(8 * 1024 * 1024);
  impl_->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& request) {
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type response;
  done = false;
  impl_->ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), "/v1/sync", [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, deadline, lowest);
  outcome.http_status = response.result_int();
  if (!done || ec) {
    outcome.error = "handshake: " + (done ? ec.message() : std::string("timed out"));
    return outcome;
  }
  outcome.ok = true;
  return outcome;
}

bool WsTestClient::send(const std::string& text, std::chrono::milliseconds deadline) {
  impl_->ws.text(true);
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, deadline, beast::get_lowest_layer(impl_->ws));
  return done && !ec;
}

bool WsTestClient::send_binary(const std::string& bytes, std::chrono::milliseconds deadline) {
  impl_->ws.binary(true);
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_write(asio::buffer(bytes), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, deadline, beast::get_lowest_layer(impl_->ws));
  impl_->ws.text(true);
  return done && !ec;
}

std::optional<std::string> WsTestClient::receive(std::chrono::milliseconds deadline) {
  impl_->buffer.clear();
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, deadline, beast::get_lowest_layer(impl_->ws));
  if (!done || ec) {
    impl_->closed = true;
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
}

std::optional<std::string> WsTestClient::request(const std::string& text, std::chrono::milliseconds deadline) {
  if (!send(text, deadline)) return std::nullopt;
  return receive(deadline);
}

int WsTestClient::close_code() const { return static_cast<int>(impl_->ws.reason().code); }

void WsTestClient::close() {
  if (impl_->closed) return;
  beast::error_code ec;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  run_until(impl_->ioc, done, std::chrono::seconds(5), beast::get_lowest_layer(impl_->ws));
  impl_->closed = true;
}

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                       std::chrono::milliseconds deadline) {
  return http_request_from("", port, method, target, headers, body, deadline);
}

HttpReply http_request_from(const std::string& from, unsigned short port, const std::string& method,
                            const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body, std::chrono::milliseconds deadline) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  HttpReply reply;
  beast::error_code ec;
  if (!from.empty()) {
    stream.socket().open(tcp::v4(), ec);
    if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(from), 0), ec);
    if (ec) return reply;
  }
  bool done = false;
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  run_until(ioc, done, deadline, stream);
  if (!done || ec) return reply;
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  done = false;
  http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(ioc, done, deadline, stream);
  if (!done || ec) return reply;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  done = false;
  http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_until(ioc, done, deadline, stream);
  if (!done || ec) return reply;
  const auto& response = parser.get();
  reply.status = response.result_int();
  reply.body = response.body();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return reply;
}

HttpReply http_get(unsigned short port, const std::string& target, const std::string& token,
                   std::chrono::milliseconds deadline) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return http_request(port, "GET", target, headers, "", deadline);
}

}  // namespace test_support
