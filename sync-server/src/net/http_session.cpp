// One HTTP connection: the coordinator API, /healthz, and the WebSocket upgrade at /v1/sync.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "../log.h"
#include "context.h"
#include "safer/protocol.h"
#include "safer/stats.h"

namespace sync_server::net {

namespace {

constexpr std::size_t kMaxRequestBytes = 16 * 1024;  // the API takes no request bodies

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

// Reads one query parameter ("from" in "/api/v1/stats?from=2026-04-01&to=…"); nullopt when absent.
std::optional<std::string> query_value(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string json_error(std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"}\n";
}

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Context& context, tcp::socket socket) : context_(context), stream_(std::move(socket)) {}
  ~HttpSession() override { context_.registry.remove(this); }

  void start() {
    context_.registry.add(shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  void shut_down() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) self->stream_.cancel();  // idle keep-alive: just close
    });
  }

 private:
  void read() {
    if (context_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(context_.config.handshake_timeout);
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
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
    const std::string_view path = target.substr(0, target.find('?'));
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
    if (path == "/api/v1/stats") return stats(request, target);
    if (path == "/v1/sync") {
      return send(plain(http::status::upgrade_required, json_error("this endpoint speaks WebSocket")));
    }
    return send(plain(http::status::not_found, json_error("no such endpoint")));
  }

  void upgrade(Request request) {
    const std::string token = bearer_token(request);
    if (token.empty()) return unauthorized("upgrade_refused", "no token");
    auto shared_request = std::make_shared<Request>(std::move(request));
    context_.readers->post([self = shared_from_this(), token, shared_request](ServerStore& store) {
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
        self->stream_.expires_never();
        serve_websocket(self->context_, std::move(self->stream_), std::move(*shared_request), std::move(*device));
      });
    });
  }

  void stats(const Request& request, std::string_view target) {
    if (request.method() != http::verb::get) return send(plain(http::status::method_not_allowed, json_error("use GET")));
    const std::string token = bearer_token(request);
    if (token.empty()) return unauthorized("stats_refused", "no token");

    std::optional<safer::CivilDate> from, to;
    for (const auto& [name, date] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
      if (const auto text = query_value(target, name)) {
        *date = safer::parse_iso_date(*text);
        if (!*date) {
          return send(plain(http::status::bad_request,
                            json_error(std::string(name) + " must be a date written YYYY-MM-DD")));
        }
      }
    }
    if (from && to && *to < *from) {
      return send(plain(http::status::bad_request, json_error("from must not be after to")));
    }
    context_.readers->post([self = shared_from_this(), token, from, to](ServerStore& store) {
      std::optional<DeviceRecord> device;
      std::optional<std::string> body;
      try {
        device = store.authenticate(token);
        if (device && device->identity.role == safer::Role::coordinator) body = safer::to_json(store.stats(from, to));
      } catch (const std::exception&) {
        return asio::post(self->stream_.get_executor(), [self] {
          self->send(self->plain(http::status::service_unavailable, json_error("the database cannot be read")));
        });
      }
      asio::post(self->stream_.get_executor(), [self, device, body = std::move(body)] {
        if (!device) return self->unauthorized("stats_refused", "unknown or revoked token");
        if (!body) {
          log::line("stats_refused", "device=" + device->identity.device_id + " reason=not_a_coordinator");
          return self->send(self->plain(http::status::forbidden, json_error("coordinators only")));
        }
        self->send(self->plain(http::status::ok, *body + "\n", "application/json"));
      });
    });
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
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  void send(Response response, bool keep_alive = true) {
    const bool again = keep_alive && keep_alive_ && !context_.stopping;
    response.keep_alive(again);
    auto shared = std::make_shared<Response>(std::move(response));
    stream_.expires_after(context_.config.handshake_timeout);
    http::async_write(stream_, *shared, [self = shared_from_this(), shared, again](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (again) return self->read();
      self->close();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  Context& context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
  bool reading_ = false;
  unsigned version_ = 11;
};

}  // namespace

void serve_http(Context& context, tcp::socket socket) {
  std::make_shared<HttpSession>(context, std::move(socket))->start();
}

}  // namespace sync_server::net
