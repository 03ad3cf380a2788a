#include "ui_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <iostream>
#include <memory>
#include <optional>

#include "assets.h"
#include "background_sync.h"
#include "local_api.h"
#include "safer/hex.h"
#include "safer/json_out.h"
#include "safer/url_query.h"

namespace field_client::ui {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::size_t kMaxBody = 256 * 1024;

std::string random_key() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the launch key");
  return safer::to_hex(bytes);
}

std::string_view text_of(beast::string_view text) { return {text.data(), text.size()}; }

bool same_secret(std::string_view given, const std::string& key) {
  return given.size() == key.size() && CRYPTO_memcmp(given.data(), key.data(), key.size()) == 0;
}

// The launch cookie's name: one per port, because a browser sends a cookie to every port of
// 127.0.0.1 (cookies are not port-scoped), so two apps, or another local server, would
// otherwise overwrite each other's.
std::string cookie_name(unsigned short port) { return "ss_app_" + std::to_string(port); }

// Whether any cookie called `name` in a Cookie header holds `key` (a second cookie of the same
// name, such as one another local page set with a longer Path, must not hide the right one).
bool cookie_holds(std::string_view header, const std::string& name, const std::string& key) {
  const std::string prefix = name + "=";
  for (std::size_t start = 0; start < header.size();) {
    while (start < header.size() && header[start] == ' ') ++start;
    const auto end = std::min(header.find(';', start), header.size());
    const auto cookie = header.substr(start, end - start);
    if (cookie.substr(0, prefix.size()) == prefix && same_secret(cookie.substr(prefix.size()), key)) return true;
    start = end + 1;
  }
  return false;
}

// A write is any method but GET and HEAD: it may change the store or the lock.
bool is_write(http::verb method) { return method != http::verb::get && method != http::verb::head; }


struct Server {
  UiOptions options;
  std::string key;
  unsigned short port = 0;
  LocalApi* api = nullptr;

  Response respond(http::status status, std::string body, std::string_view type, unsigned version) const {
    Response response{status, version};
    response.set(http::field::server, "field-client-ui");
    response.set(http::field::content_type, type);
    response.set(http::field::cache_control, "no-store");
    response.set("Content-Security-Policy", safer::kContentSecurityPolicy);
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    response.body() = std::move(body);
    return response;
  }

  // {"error": message}, for a request refused before it reaches the local API.
  Response refuse(http::status status, std::string_view message, unsigned version) const {
    return respond(status, safer::JsonOut().begin_object().field("error", message).end_object().str(),
                   "application/json", version);
  }

  // A browser sends Origin with every write it makes (fetch or form), so a write from another
  // origin, which includes another port of 127.0.0.1 (the same site to the browser, so
  // SameSite=Strict still sends the cookie), is refused. A write with no Origin comes from a
  // program, not a page, and must carry the key header: the cookie alone, which a browser
  // adds by itself, is not enough. `own_origin`: "http://" and the (already checked) Host.
  // Returns the refusal, or nothing when the write may go on to the key check.
  std::optional<Response> check_write_origin(const Request& request, const std::string& own_origin) const {
    const auto origin = request.find(http::field::origin);
    if (origin != request.end()) {
      if (text_of(origin->value()) == own_origin) return std::nullopt;
      return refuse(http::status::forbidden,
                    "changes are accepted only from the app's own page (the Origin is not this app's)",
                    request.version());
    }
    if (same_secret(text_of(request["X-Field-Client-Key"]), key)) return std::nullopt;
    return refuse(http::status::forbidden,
                  "a change without an Origin must carry the launch key in X-Field-Client-Key", request.version());
  }

  Response handle(const Request& request) const {
    const auto version = request.version();
    // DNS rebinding: a page that points another name at 127.0.0.1 sends that name as Host.
    const std::string host(request[http::field::host]);
    if (host != "127.0.0.1:" + std::to_string(port) && host != "localhost:" + std::to_string(port)) {
      return refuse(http::status::misdirected_request, "wrong host", version);
    }
    if (is_write(request.method())) {
      if (auto refused = check_write_origin(request, "http://" + host)) return *refused;
    }
    const std::string_view target(request.target().data(), request.target().size());
    const std::string path(target.substr(0, target.find('?')));
    const auto query = target.find('?') == std::string_view::npos ? std::map<std::string, std::string>{}
                                                                   : safer::parse_query(target.substr(target.find('?') + 1));

    if (path == "/" && query.count("key")) {
      if (!same_secret(query.at("key"), key)) {
        return refuse(http::status::forbidden, "wrong launch key", version);
      }
      auto response = respond(http::status::found, "", "text/plain", version);
      response.set(http::field::location, "/app/");
      response.set(http::field::set_cookie, cookie_name(port) + "=" + key + "; Path=/; HttpOnly; SameSite=Strict");
      return response;
    }
    const bool has_key = cookie_holds(text_of(request[http::field::cookie]), cookie_name(port), key) ||
                         same_secret(text_of(request["X-Field-Client-Key"]), key);
    if (!has_key) {
      return refuse(http::status::forbidden,
                    "open the address that field-client ui printed (it carries this launch's key)", version);
    }
    if (path.rfind("/api/", 0) == 0) {
      const bool background = request["X-Background"] == "1";
      const auto answer =
          api->handle(LocalRequest{std::string(request.method_string()), path, query, request.body(), background});
      auto response = respond(static_cast<http::status>(answer.status), answer.body, "application/json", version);
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      return response;
    }
    if (request.method() == http::verb::get) {
      if (path == "/" || path == "/app") {
        auto response = respond(http::status::found, "", "text/plain", version);
        response.set(http::field::location, "/app/");
        return response;
      }
      const std::string wanted = path == "/app/" ? "/app/index.html" : path;
      for (std::size_t i = 0; i < kAssetCount; ++i) {
        if (kAssets[i].path == wanted) {
          auto response = respond(http::status::ok, std::string(kAssets[i].body), kAssets[i].content_type, version);
          response.set(http::field::cache_control, "no-cache");
          return response;
        }
      }
    }
    return refuse(http::status::not_found, "no such page", version);
  }
};

// One connection at a time is all a tablet's browser needs, but keep-alive connections from
// several tabs are served in turn, each handler on the one io thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Server& server) : stream_(std::move(socket)), server_(server) {}
  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      auto request = self->parser_->release();
      auto response = std::make_shared<Response>(self->server_.handle(request));
      response->keep_alive(request.keep_alive());
      response->prepare_payload();
      http::async_write(self->stream_, *response, [self, response](beast::error_code write_ec, std::size_t) {
        if (write_ec) return;
        if (response->keep_alive()) return self->read();
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    });
  }

  beast::tcp_stream stream_;
  const Server& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void accept(tcp::acceptor& acceptor, const Server& server) {
  acceptor.async_accept([&acceptor, &server](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<Session>(std::move(socket), server)->start();
    accept(acceptor, server);
  });
}

}  // namespace

int run_ui(const UiOptions& options) {
  asio::io_context ioc;
  LocalApi api(options.store_path,
               BackgroundSyncSettings{options.sync_interval, std::chrono::milliseconds(500), options.retry_base_seconds,
                                      options.max_backoff_seconds},
               options.pin_lock, options.pin_policy, [&ioc](std::function<void()> task) { asio::post(ioc, std::move(task)); });
  api.set_ca_file(options.ca_file);
  if (auto started = api.start(); !started) {
    std::cerr << "field-client: " << started.error().message << '\n';
    return 1;
  }
  Server server{options, random_key(), 0, &api};

  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);  // never anything but loopback
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "field-client: cannot listen on 127.0.0.1:" << options.port << ": " << ec.message() << '\n';
    return 1;
  }
  server.port = acceptor.local_endpoint().port();
  std::cout << "field-client ui: open http://127.0.0.1:" << server.port << "/?key=" << server.key << std::endl;
  std::cerr << "The tablet app is served on 127.0.0.1 only; Ctrl+C stops it (nothing is lost).\n";

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  accept(acceptor, server);
  ioc.run();
  return 0;
}

}  // namespace field_client::ui
