// One HTTP connection: the coordinator API, /healthz, and the WebSocket upgrade at /v1/sync.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "../log.h"
#include "api.h"
#include "context.h"
#include "safer/protocol.h"
#include "safer/stats.h"

namespace sync_server::net {

namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 10 * 1024 * 1024;  // the largest of max_body_bytes()

using Response = http::response<http::string_body>;

// The token of "Authorization: Bearer <token>", or "".
std::string bearer_token(const Request& request) {
  const auto header = request[http::field::authorization];
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  std::string token(header.substr(kScheme.size()));
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return token;
}

std::string json_error(std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"}\n";
}

template <class Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Context& context, Stream stream) : context_(context), stream_(std::move(stream)) {
    beast::error_code ignored;
    const auto endpoint = lowest().socket().remote_endpoint(ignored);
    peer_ = endpoint.address().to_string();
  }
  ~HttpSession() override { context_.registry.remove(this); }

  void start() {
    context_.registry.add(this->shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void shut_down() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->reading_) self->lowest().cancel();  // idle keep-alive: just close
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // TLS first (TLS 1.2 or newer, see server.cpp), then HTTP.
  void begin() {
    if constexpr (kTls) {
      lowest().expires_after(context_.config.handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return log::line("tls_refused", "peer=" + self->peer_ + " error=\"" + ec.message() + "\"");
        self->read();
      });
    } else {
      read();
    }
  }

  void read() {
    if (context_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // Beast checks Content-Length against the limit as the header ends, so the largest any
    // endpoint takes applies until then; on_header() holds each endpoint to its own.
    parser_->body_limit(kMaxBodyBytes);
    lowest().expires_after(context_.config.handshake_timeout);
    reading_ = true;
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    // The body may be as large as its endpoint takes (a households CSV: 10 MiB), no larger.
    const auto& header = parser_->get();
    const std::string_view target(header.target().data(), header.target().size());
    const auto limit = max_body_bytes(std::string(header.method_string()), std::string(target.substr(0, target.find('?'))));
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return send(plain(http::status::payload_too_large, json_error("request too large")), false);
    }
    parser_->body_limit(limit);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code read_ec, std::size_t) {
      self->on_read(read_ec);
    });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      return send(plain(http::status::payload_too_large, json_error("request too large")), false);
    }
    if (ec) return;  // timeout, reset or shutdown: the connection simply ends
    handle(parser_->release());
  }

  void handle(Request request) {
    const std::string_view target(request.target().data(), request.target().size());
    const std::string path(target.substr(0, target.find('?')));
    keep_alive_ = request.keep_alive();
    version_ = request.version();

    if (beast::websocket::is_upgrade(request)) {
      if (path != "/v1/sync") return send(plain(http::status::not_found, json_error("no such endpoint")));
      return upgrade(std::move(request));
    }
    if (path == "/healthz") {
      if (request.method() != http::verb::get && request.method() != http::verb::head) {
        return send(plain(http::status::method_not_allowed, json_error("use GET")));
      }
      return send(plain(http::status::ok, "ok\n", "text/plain"));
    }
    if (path == "/v1/sync") {
      return send(plain(http::status::upgrade_required, json_error("this endpoint speaks WebSocket")));
    }
    if (is_api_path(path)) return api(request, target);
    if (request.method() == http::verb::get || request.method() == http::verb::head) {
      if (auto file = static_file(path)) return send(from_api(std::move(*file)));
    }
    return send(plain(http::status::not_found, json_error("no such endpoint")));
  }

  void upgrade(Request request) {
    const std::string token = bearer_token(request);
    if (token.empty()) return unauthorized("upgrade_refused", "no token");
    auto shared_request = std::make_shared<Request>(std::move(request));
    context_.readers->post([self = this->shared_from_this(), token, shared_request](ServerStore& store) {
      std::optional<DeviceRecord> device;
      try {
        device = store.authenticate(token);
      } catch (const std::exception&) {
        return asio::post(self->stream_.get_executor(), [self] {
          self->send(self->plain(http::status::service_unavailable, json_error("the database cannot be read")), false);
        });
      }
      asio::post(self->stream_.get_executor(), [self, device = std::move(device), shared_request]() mutable {
        if (!device) return self->unauthorized("upgrade_refused", "unknown or revoked token");
        if (self->context_.stopping) {
          return self->send(self->plain(http::status::service_unavailable, json_error("shutting down")), false);
        }
        self->lowest().expires_never();
        serve_websocket(self->context_, std::move(self->stream_), std::move(*shared_request), std::move(*device));
      });
    });
  }

  void api(const Request& request, std::string_view target) {
    ApiRequest api;
    api.method = std::string(request.method_string());
    const auto question = target.find('?');
    api.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) api.query = parse_query(target.substr(question + 1));
    const auto header = [&request](http::field field) { return std::string(request[field]); };
    api.authorization = header(http::field::authorization);
    api.cookie = header(http::field::cookie);
    api.csrf_token = std::string(request["X-CSRF-Token"]);
    api.origin = header(http::field::origin);
    api.host = header(http::field::host);
    api.content_type = header(http::field::content_type);
    api.body = request.body();
    api.peer = peer_;
    api.secure = kTls;
    handle_api(context_, std::move(api), [self = this->shared_from_this()](ApiResponse response) {
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->send(self->from_api(std::move(response)));
      });
    });
  }

  Response from_api(ApiResponse api) const {
    Response response = plain(static_cast<http::status>(api.status), std::move(api.body), api.content_type.c_str());
    for (auto& [name, value] : api.headers) response.insert(name, value);  // a login sets two cookies
    return response;
  }

  void unauthorized(const char* event, const char* reason) {
    log::line(event, std::string("reason=\"") + reason + "\"");
    auto response = plain(http::status::unauthorized, json_error("a valid device token is required"));
    response.set(http::field::www_authenticate, "Bearer");
    send(std::move(response));
  }

  Response plain(http::status status, std::string body, const char* type = "application/json") const {
    Response response{status, version_};
    response.set(http::field::server, "safer-streets-sync");
    response.set(http::field::content_type, type);
    response.set(http::field::cache_control, "no-store");
    // The dashboard's pages take nothing from elsewhere and run in no frame.
    response.set("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  void send(Response response, bool keep_alive = true) {
    const bool again = keep_alive && keep_alive_ && !context_.stopping;
    response.keep_alive(again);
    auto shared = std::make_shared<Response>(std::move(response));
    lowest().expires_after(context_.config.handshake_timeout);
    http::async_write(stream_, *shared, [self = this->shared_from_this(), shared, again](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (again) return self->read();
      self->close();
    });
  }

  void close() {
    if constexpr (kTls) {
      lowest().expires_after(context_.config.handshake_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Context& context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  bool keep_alive_ = false;
  bool reading_ = false;
  unsigned version_ = 11;
};

}  // namespace

void serve_http(Context& context, tcp::socket socket) {
  if (context.tls) {
    std::make_shared<HttpSession<TlsStream>>(context, TlsStream(PlainStream(std::move(socket)), *context.tls))->start();
  } else {
    std::make_shared<HttpSession<PlainStream>>(context, PlainStream(std::move(socket)))->start();
  }
}

}  // namespace sync_server::net
