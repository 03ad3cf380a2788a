#include "ws_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "safer/json_object.h"
#include "safer/loopback.h"
#include "safer/protocol.h"

namespace field_client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainSocket = websocket::stream<beast::tcp_stream>;
using TlsSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

namespace {

safer::Error network(const std::string& what) { return safer::Error{"network", what, ""}; }

struct Url {
  bool tls = false;
  std::string host, port, path;
};

std::optional<Url> parse_url(const std::string& url) {
  Url parsed;
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    parsed.tls = true;
    rest = url.substr(6);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  parsed.path = slash == std::string::npos ? "/v1/sync" : rest.substr(slash);
  if (parsed.path == "/") parsed.path = "/v1/sync";
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    parsed.host = authority;
    parsed.port = parsed.tls ? "443" : "80";
  } else {
    parsed.host = authority.substr(0, colon);
    parsed.port = authority.substr(colon + 1);
  }
  if (parsed.host.size() > 2 && parsed.host.front() == '[') parsed.host = parsed.host.substr(1, parsed.host.size() - 2);
  if (parsed.host.empty() || parsed.port.empty()) return std::nullopt;
  return parsed;
}

}  // namespace

safer::Status check_plaintext(const std::string& url, bool allow_plaintext) {
  const auto parsed = parse_url(url);
  if (!parsed || parsed->tls || allow_plaintext || safer::is_loopback_host(parsed->host)) return {};
  return safer::Error{"invalid",
                      "ws:// would send this device's token and records unencrypted to " + parsed->host +
                          ", which is not this machine: use wss://, or allow plaintext explicitly (field-client "
                          "enroll or sync --allow-plaintext; C API: fc_enroll_plaintext) if the network is "
                          "protected some other way",
                      "server"};
}

struct WsConnection::Impl {
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  std::unique_ptr<PlainSocket> plain;
  std::unique_ptr<TlsSocket> secure;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{};

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : beast::get_lowest_layer(*plain); }

  // connect()'s steps, in order (the TLS ones only for wss://).
  std::optional<safer::Error> prepare_tls(const Url& url, const std::string& ca_file);
  std::optional<safer::Error> open_tcp(const Url& url, const std::string& where);
  std::optional<safer::Error> handshake_tls(const std::string& where);
  std::optional<safer::Error> upgrade(const Url& url, const std::string& where, const std::string& token);
  // post_json()'s request and answer, on the stream under the WebSocket (never upgraded).
  safer::Result<HttpAnswer> exchange(const std::string& where, const std::string& path, const std::string& body);
  // The steps up to the upgrade: TLS set up (wss://), TCP connected, TLS handshake done.
  std::optional<safer::Error> open(const Url& url, const std::string& where, const std::string& ca_file);

  // Calls `body` with whichever WebSocket stream this connection has.
  template <class Body>
  void with(Body&& body) {
    if (secure) {
      body(*secure);
    } else {
      body(*plain);
    }
  }

  // Runs the io_context until the started operation completes or the deadline passes, in
  // which case the socket is closed and `ec` says timed out.
  void run(beast::error_code& ec, bool& done) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      lowest().cancel();
      lowest().close();
      ioc.restart();
      ioc.run();  // let the cancelled operation finish
      ec = beast::error::timeout;
    }
  }
};

WsConnection::WsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsConnection::~WsConnection() = default;

// connect()'s steps. Each returns the error that ends the attempt, or nothing.

// The TLS context and stream: TLS 1.2 or newer, and the server must prove it is `host` with a
// certificate we trust (the system's CAs, or `ca_file`'s).
std::optional<safer::Error> WsConnection::Impl::prepare_tls(const Url& url, const std::string& ca_file) {
  beast::error_code ec;
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  tls.set_verify_mode(ssl::verify_peer);
  if (ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(ca_file, ec);
  }
  if (ec) {
    return safer::Error{"invalid", "cannot read the trusted CAs (" + (ca_file.empty() ? "the system's" : ca_file) + "): " + ec.message(),
                        "ca_file"};
  }
  secure = std::make_unique<TlsSocket>(ioc, tls);
  secure->next_layer().set_verify_callback(ssl::host_name_verification(url.host));
  beast::error_code not_an_address;
  asio::ip::make_address(url.host, not_an_address);
  if (not_an_address) {  // SNI names the host (never an IP address); SSL_set_tlsext_host_name, without its C cast
    SSL_ctrl(secure->next_layer().native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(url.host.c_str()));
  }
  secure->read_message_max(safer::kMaxMessageBytes);
  return std::nullopt;
}

// Resolves the host and opens the TCP connection.
std::optional<safer::Error> WsConnection::Impl::open_tcp(const Url& url, const std::string& where) {
  beast::error_code ec;
  bool done = false;
  tcp::resolver resolver(ioc);
  resolver.async_resolve(url.host, url.port, [&](beast::error_code resolve_ec, tcp::resolver::results_type results) {
    if (resolve_ec) {
      ec = resolve_ec;
      done = true;
      return;
    }
    lowest().async_connect(results, [&](beast::error_code connect_ec, const tcp::endpoint&) {
      ec = connect_ec;
      done = true;
    });
  });
  run(ec, done);
  if (ec) return network("cannot reach " + where + ": " + ec.message());
  // Pull requests and pushes go out at once (no Nagle delay behind an unacknowledged segment).
  beast::error_code ignored;
  lowest().socket().set_option(tcp::no_delay(true), ignored);
  return std::nullopt;
}

// The TLS handshake; a certificate that could not be verified is its own error
// (untrusted_server: not retried).
std::optional<safer::Error> WsConnection::Impl::handshake_tls(const std::string& where) {
  beast::error_code ec;
  bool done = false;
  lowest().expires_after(timeout);
  secure->next_layer().async_handshake(ssl::stream_base::client, [&](beast::error_code handshake_ec) {
    ec = handshake_ec;
    done = true;
  });
  run(ec, done);
  lowest().expires_never();
  if (!ec) return std::nullopt;
  const long verify = SSL_get_verify_result(secure->next_layer().native_handle());
  if (verify != X509_V_OK) {
    return safer::Error{"untrusted_server",
                        "the server at " + where + " could not be verified (" + X509_verify_cert_error_string(verify) +
                            "): give field-client enroll --ca-file with the CA that signed its certificate, "
                            "or have its certificate fixed. Nothing was sent.",
                        ""};
  }
  return network("the TLS handshake with " + where + " failed: " + ec.message());
}

// The WebSocket upgrade with the device's token; a 401, a 410 wipe order or a 5xx answer is its own error.
std::optional<safer::Error> WsConnection::Impl::upgrade(const Url& url, const std::string& where, const std::string& token) {
  beast::error_code ec;
  bool done = false;
  websocket::response_type response;
  with([&](auto& ws) {
    ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& request) {
      request.set(beast::http::field::authorization, "Bearer " + token);
      request.set(beast::http::field::user_agent, "safer-streets-field-client");
    }));
    ws.async_handshake(response, where, url.path, [&](beast::error_code handshake_ec) {
      ec = handshake_ec;
      done = true;
    });
  });
  run(ec, done);
  if (!ec) return std::nullopt;
  if (response.result() == beast::http::status::unauthorized) {
    return safer::Error{"unauthorized",
                        "the server refused this device's token (401): it is unknown or was revoked; "
                        "ask a coordinator to enrol the device again",
                        ""};
  }
  // A coordinator's order to wipe this device: 410 Gone with {"code": "wipe"} (protocol.md).
  // Both are needed, so that a 410 from anything else (a proxy) never erases a tablet.
  if (response.result() == beast::http::status::gone) {
    const auto body = safer::JsonObject::parse(response.body());
    if (body && body->string("code") == "wipe") {
      return safer::Error{"wipe",
                          "a coordinator ordered this device wiped (the server answered 410): every record, change, "
                          "the token and the key are to be erased from it; it must be enrolled again",
                          ""};
    }
  }
  if (response.result_int() >= 500) {
    return safer::Error{"unavailable", "the server is unavailable (HTTP " + std::to_string(response.result_int()) + ")", ""};
  }
  return network("the WebSocket handshake with " + where + " failed: " + ec.message());
}

std::optional<safer::Error> WsConnection::Impl::open(const Url& url, const std::string& where, const std::string& ca_file) {
  if (url.tls) {
    if (auto failed = prepare_tls(url, ca_file)) return failed;
  } else {
    plain = std::make_unique<PlainSocket>(ioc);
    plain->read_message_max(safer::kMaxMessageBytes);
  }
  if (auto failed = open_tcp(url, where)) return failed;
  if (secure) return handshake_tls(where);
  return std::nullopt;
}

safer::Result<HttpAnswer> WsConnection::Impl::exchange(const std::string& where, const std::string& path,
                                                       const std::string& body) {
  namespace http = beast::http;
  http::request<http::string_body> request{http::verb::post, path, 11};
  request.set(http::field::host, where);
  request.set(http::field::user_agent, "safer-streets-field-client");
  request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  beast::error_code ec;
  bool done = false;
  lowest().expires_after(timeout);
  const auto exchange_on = [&](auto& stream) {
    http::async_write(stream, request, [&](beast::error_code write_ec, std::size_t) {
      if (write_ec) {
        ec = write_ec;
        done = true;
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code read_ec, std::size_t) {
        ec = read_ec;
        done = true;
      });
    });
  };
  if (secure) {
    exchange_on(secure->next_layer());
  } else {
    exchange_on(plain->next_layer());
  }
  run(ec, done);
  lowest().expires_never();
  if (ec) return network("the request to " + where + " failed: " + ec.message());
  return HttpAnswer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

safer::Result<HttpAnswer> WsConnection::post_json(const std::string& url, const std::string& path,
                                                  const std::string& body, const std::string& ca_file,
                                                  std::chrono::milliseconds timeout) {
  const auto parsed = parse_url(url);
  if (!parsed) return safer::Error{"invalid", "the server URL must look like ws://host:port or wss://host:port", "server"};
  const std::string where = parsed->host + ":" + parsed->port;
  Impl impl;
  impl.timeout = timeout;
  if (auto failed = impl.open(*parsed, where, ca_file)) return *failed;
  auto answer = impl.exchange(where, path, body);
  beast::error_code ignored;
  impl.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  return answer;
}

safer::Result<std::unique_ptr<WsConnection>> WsConnection::connect(const std::string& url, const std::string& token,
                                                                   const std::string& ca_file,
                                                                   std::chrono::milliseconds timeout) {
  const auto parsed = parse_url(url);
  if (!parsed) return safer::Error{"invalid", "the server URL must look like ws://host:port or wss://host:port", "server"};
  const std::string where = parsed->host + ":" + parsed->port;

  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  if (auto failed = impl->open(*parsed, where, ca_file)) return *failed;
  if (auto failed = impl->upgrade(*parsed, where, token)) return *failed;
  impl->with([](auto& ws) { ws.text(true); });
  return std::unique_ptr<WsConnection>(new WsConnection(std::move(impl)));
}

safer::Status WsConnection::send(const std::string& text) {
  beast::error_code ec;
  bool done = false;
  impl_->with([&](auto& ws) {
    ws.async_write(asio::buffer(text), [&](beast::error_code write_ec, std::size_t) {
      ec = write_ec;
      done = true;
    });
  });
  impl_->run(ec, done);
  if (ec) return network("sending to the server failed: " + ec.message());
  return {};
}

safer::Result<std::string> WsConnection::receive() {
  beast::error_code ec;
  bool done = false;
  impl_->buffer.clear();
  impl_->with([&](auto& ws) {
    ws.async_read(impl_->buffer, [&](beast::error_code read_ec, std::size_t) {
      ec = read_ec;
      done = true;
    });
  });
  impl_->run(ec, done);
  if (ec == websocket::error::closed) {
    int code = 0;
    impl_->with([&](auto& ws) { code = ws.reason().code; });
    return network("the server closed the connection (code " + std::to_string(code) + ")");
  }
  if (ec) return network("receiving from the server failed: " + ec.message());
  return beast::buffers_to_string(impl_->buffer.data());
}

void WsConnection::close() {
  beast::error_code ec;
  bool done = false;
  impl_->with([&](auto& ws) {
    ws.async_close(websocket::close_code::normal, [&](beast::error_code close_ec) {
      ec = close_ec;
      done = true;
    });
  });
  impl_->run(ec, done);
}

}  // namespace field_client
