// One HTTP connection: the coordinator API, /healthz, /readyz and /metrics, and the WebSocket upgrade at /v1/sync.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "api.h"
#include "context.h"
#include "http_routing.h"
#include "log.h"
#include "safer/bearer_token.h"
#include "safer/json_out.h"
#include "safer/protocol.h"
#include "safer/stats.h"
#include "safer/url_query.h"

namespace sync_server::net {

namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 10 * 1024 * 1024;  // the largest of max_body_bytes()
// A body larger than this is read only from an authenticated coordinator, and only
// --max-large-uploads of them at once.
constexpr std::size_t kMaxAnonymousBodyBytes = 64 * 1024;
constexpr int kUploadRetryAfterSeconds = 5;
constexpr std::chrono::milliseconds kLingerTime{2'000};  // at most, reading what follows a refused request

using Response = http::response<http::string_body>;
using FileResponse = http::response<http::file_body>;

std::string json_error(std::string_view message) {
  return safer::JsonOut().begin_object().field("error", message).end_object().str() + "\n";
}

template <class Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(Context& context, Stream stream, Slot slot)
      : context_(context), stream_(std::move(stream)), slot_(std::move(slot)) {
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
  PlainStream& lowest() { return beast::get_lowest_layer(stream_); }

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
    // The first request gets the handshake's time; between requests, a kept-alive connection
    // may wait --keep-alive-timeout for the next one.
    lowest().expires_after(requests_ == 0 ? context_.config.handshake_timeout : context_.config.keep_alive_timeout);
    reading_ = true;
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    // The body may be as large as its endpoint takes (a households CSV: 10 MiB), no larger.
    const auto limit = body_limit(parser_->get());
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return send(plain(http::status::payload_too_large, json_error("request too large")), false);
    }
    parser_->body_limit(limit);
    const auto length = parser_->content_length();
    if (limit > kMaxAnonymousBodyBytes && (!length || *length > kMaxAnonymousBodyBytes)) return authorize_upload();
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code read_ec, std::size_t) {
      self->on_read(read_ec);
    });
  }

  // A body over 64 KiB (a households import): first the caller must be a coordinator (checked
  // on the reader pool from the header alone), then one of --max-large-uploads places must be
  // free; otherwise the answer goes out and the connection closes with the body unread.
  void authorize_upload() {
    ApiRequest caller;
    const auto& header = parser_->get();
    caller.authorization = std::string(header[http::field::authorization]);
    caller.cookie = std::string(header[http::field::cookie]);
    keep_alive_ = false;
    version_ = header.version();
    context_.readers->post([self = this->shared_from_this(), caller = std::move(caller)](ServerStore& store) {
      auto refusal = refuse_caller(store, caller);
      asio::post(self->stream_.get_executor(), [self, refusal = std::move(refusal)]() mutable {
        self->reading_ = false;
        if (refusal) return self->send(self->from_api(std::move(*refusal)), false);
        auto upload = self->context_.limits.take_upload();
        if (!upload) {
          log::line("upload_refused", "peer=" + self->peer_ + " reason=\"too many large uploads at once\"");
          auto busy = self->plain(http::status::service_unavailable,
                                  json_error("too many large uploads at once; try again in a few seconds"));
          busy.set(http::field::retry_after, std::to_string(kUploadRetryAfterSeconds));
          return self->send(std::move(busy), false);
        }
        self->upload_slot_ = std::move(*upload);
        self->reading_ = true;
        self->read_body();
      });
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
    ++requests_;
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    switch (destination(request)) {
      case Destination::websocket:
        return upgrade(std::move(request));
      case Destination::health:
        return send(plain(http::status::ok, "ok\n", "text/plain"));
      case Destination::ready:
        return ready();
      case Destination::metrics:
        return metrics(request);
      case Destination::health_method:
        return send(plain(http::status::method_not_allowed, json_error("use GET")));
      case Destination::upgrade_required:
        return send(plain(http::status::upgrade_required, json_error("this endpoint speaks WebSocket")));
      case Destination::api:
        return api(request);
      case Destination::file: {
        const std::string_view target(request.target().data(), request.target().size());
        if (auto file = static_file(std::string(target_path(target)))) return send(from_api(std::move(*file)));
        break;
      }
      case Destination::no_websocket_here:
      case Destination::not_found:
        break;
    }
    return send(plain(http::status::not_found, json_error("no such endpoint")));
  }

  void ready() {
    if (context_.stopping) return send(plain(http::status::service_unavailable, json_error("shutting down")));
    context_.readiness.check(*context_.readers, [self = this->shared_from_this()](bool ready, const std::string& reason) {
      asio::post(self->stream_.get_executor(), [self, ready, reason] {
        if (ready) return self->send(self->plain(http::status::ok, "ready\n", "text/plain"));
        self->send(self->plain(http::status::service_unavailable, json_error(reason)));
      });
    });
  }

  // GET /metrics: refused at once (no store access) unless metrics_access.h allows it.
  void metrics(const Request& request) {
    switch (context_.metrics_access.decide(peer_, request[http::field::authorization])) {
      case MetricsAccess::Decision::off:
        return send(plain(http::status::not_found, json_error("no such endpoint")));
      case MetricsAccess::Decision::forbidden:
        return send(plain(http::status::forbidden, json_error("metrics are not served to this address")));
      case MetricsAccess::Decision::unauthorized: {
        auto response = plain(http::status::unauthorized, json_error("a valid metrics token is required"));
        response.set(http::field::www_authenticate, "Bearer");
        return send(std::move(response));
      }
      case MetricsAccess::Decision::allowed:
        break;
    }
    context_.metrics_scrape.render(*context_.readers, context_.config.metrics_max_devices,
                                   context_.registry.device_connections(),
                                   [self = this->shared_from_this()](std::string text) {
                                     asio::post(self->stream_.get_executor(), [self, text = std::move(text)]() mutable {
                                       self->send(self->plain(http::status::ok, std::move(text), metrics::kContentType));
                                     });
                                   });
  }

  void upgrade(Request request) {
    const std::string token = safer::bearer_token(request[http::field::authorization]);
    if (token.empty()) return unauthorized("upgrade_refused", "no token");
    auto shared_request = std::make_shared<Request>(std::move(request));
    context_.readers->post([self = this->shared_from_this(), token, peer = peer_, shared_request](ServerStore& store) {
      std::optional<DeviceRecord> device;
      bool wipe = false;
      try {
        device = store.authenticate(token);
        if (!device) wipe = store.deliver_wipe(token, peer);
      } catch (const std::exception&) {
        return asio::post(self->stream_.get_executor(), [self] {
          self->send(self->plain(http::status::service_unavailable, json_error("the database cannot be read")), false);
        });
      }
      asio::post(self->stream_.get_executor(), [self, device = std::move(device), wipe, shared_request]() mutable {
        if (wipe) return self->gone();
        if (!device) return self->unauthorized("upgrade_refused", "unknown or revoked token");
        if (self->context_.stopping) {
          return self->send(self->plain(http::status::service_unavailable, json_error("shutting down")), false);
        }
        self->lowest().expires_never();
        serve_websocket(self->context_, std::move(self->stream_), std::move(*shared_request), std::move(*device),
                        std::move(self->slot_));
      });
    });
  }

  void api(const Request& request) {
    ApiRequest api = api_request(request, peer_, kTls);
    handle_api(context_, std::move(api), [self = this->shared_from_this()](ApiResponse response) {
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        if (response.delay.count() > 0) return self->send_later(std::move(response));
        if (response.file) return self->send_file(std::move(response));
        self->send(self->from_api(std::move(response)));
      });
    });
  }

  // A refused login waits on a timer before its answer; the connection reads nothing meanwhile.
  void send_later(ApiResponse response) {
    auto timer = std::make_shared<asio::steady_timer>(stream_.get_executor(), response.delay);
    timer->async_wait([self = this->shared_from_this(), timer, response = std::move(response)](beast::error_code) mutable {
      response.delay = {};
      self->send(self->from_api(std::move(response)));
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

  // protocol.md §1.2: the token of a device revoked and ordered wiped. The body is exactly
  // what field clients look for; a protocol-1 client sees a failed upgrade.
  void gone() {
    log::line("upgrade_refused", "reason=\"revoked, wipe ordered\"");
    send(plain(http::status::gone, safer::JsonOut()
                                       .begin_object()
                                       .field("code", "wipe")
                                       .field("message", "This device was revoked and must erase its data.")
                                       .end_object()
                                       .str()));
  }

  Response plain(http::status status, std::string body, const char* type = "application/json") const {
    Response response{status, version_};
    set_common_headers(response, type);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  // The headers every response carries, whatever its body.
  template <class Body>
  void set_common_headers(http::response<Body>& response, const char* type) const {
    response.set(http::field::server, "safer-streets-sync");
    response.set(http::field::content_type, type);
    response.set(http::field::cache_control, "no-store");
    // The dashboard's pages take nothing from elsewhere and run in no frame.
    response.set("Content-Security-Policy", safer::kContentSecurityPolicy);
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    // Over TLS, browsers are to use nothing else for this host for a year (RFC 6797). Never
    // over plaintext: there it would be ignored, and loopback has no TLS to insist on.
    if constexpr (kTls) response.set(http::field::strict_transport_security, "max-age=31536000");
  }

  void send(Response response, bool keep_alive = true) {
    upload_slot_ = Slot();  // the body has been read and answered (or refused)
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

  // Sends an API response whose body is a file (a CSV export) a piece at a time: the time
  // limit applies to each piece, so a large export over a slow link is not cut off while it
  // moves, and only a piece is in memory.
  void send_file(ApiResponse api) {
    auto response = std::make_shared<FileResponse>(static_cast<http::status>(api.status), version_);
    set_common_headers(*response, api.content_type.c_str());
    for (auto& [name, value] : api.headers) response->set(name, value);
    beast::file file;
    beast::error_code ec;
    file.native_handle(api.file->release());  // the file now owns the descriptor
    response->body().reset(std::move(file), ec);
    if (ec) return send(plain(http::status::service_unavailable, json_error("the export could not be read back")), false);
    response->prepare_payload();
    const bool again = keep_alive_ && !context_.stopping;
    response->keep_alive(again);
    write_piece(response, std::make_shared<http::response_serializer<http::file_body>>(*response), again);
  }

  void write_piece(std::shared_ptr<FileResponse> response, std::shared_ptr<http::response_serializer<http::file_body>> serializer,
                   bool again) {
    lowest().expires_after(context_.config.handshake_timeout);
    auto& next = *serializer;
    http::async_write_some(stream_, next, [self = this->shared_from_this(), response, serializer, again](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!serializer->is_done()) return self->write_piece(response, serializer, again);
      if (again) return self->read();
      self->close();
    });
  }

  void close() {
    if constexpr (kTls) {
      lowest().expires_after(context_.config.handshake_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      // A lingering close: the client may still be sending a body that was refused unread
      // (401, 413, 503); reading it away for a moment lets the answer arrive instead of a
      // reset (lingering_close.h).
      lowest().rate_policy().drain_time = kLingerTime;
      async_teardown(beast::role_type::server, lowest(), [self = this->shared_from_this()](beast::error_code) {});
    }
  }

  Context& context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  Slot slot_;         // this connection's place among the open ones (to the WebSocket on upgrade)
  Slot upload_slot_;  // held while a body over 64 KiB is read and answered
  std::size_t requests_ = 0;  // handled on this connection
  bool keep_alive_ = false;
  bool reading_ = false;
  unsigned version_ = 11;
};

}  // namespace

void serve_http(Context& context, tcp::socket socket, Slot slot) {
  if (context.tls) {
    std::make_shared<HttpSession<TlsStream>>(context, TlsStream(PlainStream(std::move(socket)), *context.tls),
                                             std::move(slot))
        ->start();
  } else {
    std::make_shared<HttpSession<PlainStream>>(context, PlainStream(std::move(socket)), std::move(slot))->start();
  }
}

}  // namespace sync_server::net
