#include "ui_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include "assets.h"
#include "launch_tokens.h"
#include "local_api.h"
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

// Served without the key: they hold nothing of the tablet's, and a browser fetches a web app
// manifest (and may fetch its icons) without cookies.
constexpr std::array<std::string_view, 4> kPublicAssets = {"/app/manifest.webmanifest", "/app/icon.svg",
                                                           "/app/icon-192.png", "/app/icon-512.png"};

std::string_view text_of(beast::string_view text) { return {text.data(), text.size()}; }

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

// A browser's navigation to a page (not a script's fetch, not a program): it asks for HTML.
bool wants_page(const Request& request) {
  return request.method() == http::verb::get && text_of(request[http::field::accept]).find("text/html") != std::string_view::npos;
}

const Asset* find_asset(std::string_view path) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (kAssets[i].path == path) return &kAssets[i];
  }
  return nullptr;
}

// What to do when the app cannot be opened from here: named for people, with no secret in it.
constexpr std::string_view kOpenAgain =
    "Open the app again: \"Safer Streets\" in the tablet's menu, or `field-client app` (or the address "
    "`field-client ui` printed). The app opens only from its own launch, and each launch link works once, "
    "within a minute.";

struct Server {
  std::string key;
  unsigned short port = 0;
  LocalApi* api = nullptr;
  LaunchTokens* launch_tokens = nullptr;

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

  // The refusal a person sees: a plain page when a browser navigates here, else the JSON.
  Response refuse_visitor(const Request& request, http::status status, std::string_view message) const {
    if (!wants_page(request)) return refuse(status, message, request.version());
    std::string page =
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width, initial-scale=1\"><title>Safer Streets</title></head><body><h1>Safer "
        "Streets</h1><p>";
    page += message;  // a fixed text of this file: nothing from the request
    page += "</p></body></html>";
    return respond(status, std::move(page), "text/html; charset=utf-8", request.version());
  }

  // 302 to /app/ with the launch cookie: a persistent one (Max-Age), so that the app keeps
  // working when the browser restarts, for as long as this process (and so this key) lives.
  Response open_app(unsigned version) const {
    auto response = respond(http::status::found, "", "text/plain", version);
    response.set(http::field::location, "/app/");
    response.set(http::field::set_cookie, cookie_name(port) + "=" + key + "; Path=/; Max-Age=" +
                                              std::to_string(kCookieLifetime.count()) + "; HttpOnly; SameSite=Strict");
    return response;
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
    if (has_key_header(request)) return std::nullopt;
    return refuse(http::status::forbidden,
                  "a change without an Origin must carry the launch key in X-Field-Client-Key", request.version());
  }

  bool has_key_header(const Request& request) const { return same_secret(text_of(request["X-Field-Client-Key"]), key); }

  // POST /launch, from a program holding the key (a second `field-client app`): a new launch
  // URL for it to open the browser on. The cookie alone is not enough: the URL is as good as the key.
  Response mint_launch(const Request& request) const {
    if (!has_key_header(request)) {
      return refuse(http::status::forbidden, "a launch link is given only for the key in X-Field-Client-Key",
                    request.version());
    }
    const auto token = launch_tokens->mint();
    return respond(http::status::ok,
                   safer::JsonOut()
                       .begin_object()
                       .field("launch_url", "http://127.0.0.1:" + std::to_string(port) + "/?launch=" + token)
                       .end_object()
                       .str(),
                   "application/json", request.version());
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
      if (!same_secret(query.at("key"), key)) return refuse(http::status::forbidden, "wrong launch key", version);
      return open_app(version);
    }
    if (path == "/" && query.count("launch")) {
      if (!launch_tokens->redeem(query.at("launch"))) {
        return refuse_visitor(request, http::status::forbidden,
                              std::string("This link to open the app was used already, or is too old. ") +
                                  std::string(kOpenAgain));
      }
      return open_app(version);
    }
    if (path == "/launch" && request.method() == http::verb::post) return mint_launch(request);
    if (request.method() == http::verb::get &&
        std::find(kPublicAssets.begin(), kPublicAssets.end(), path) != kPublicAssets.end()) {
      if (const auto* asset = find_asset(path)) return serve(*asset, version);
    }
    const bool has_key = cookie_holds(text_of(request[http::field::cookie]), cookie_name(port), key) ||
                         has_key_header(request);
    if (!has_key) {
      return refuse_visitor(request, http::status::forbidden,
                            std::string("This app needs this launch's key. ") + std::string(kOpenAgain));
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
      if (const auto* asset = find_asset(path == "/app/" ? "/app/index.html" : path)) return serve(*asset, version);
    }
    return refuse(http::status::not_found, "no such page", version);
  }

  Response serve(const Asset& asset, unsigned version) const {
    auto response = respond(http::status::ok, std::string(asset.body), asset.content_type, version);
    response.set(http::field::cache_control, "no-cache");
    return response;
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

// Members in the order they must be built and torn down: the sessions (in ioc) hold a
// reference to `server`, whose api points at `api`, which posts into `ioc`.
struct AppServer::Impl {
  explicit Impl(UiOptions ui_options)
      : options(std::move(ui_options)),
        launch_tokens(options.launch_token_lifetime),
        api(options.store_path,
            BackgroundSyncSettings{options.sync_interval, std::chrono::milliseconds(500), options.retry_base_seconds,
                                   options.max_backoff_seconds},
            options.pin_lock, options.pin_policy, [this](std::function<void()> task) { asio::post(ioc, std::move(task)); }) {}

  ~Impl() {
    ioc.stop();
    beast::error_code ignored;
    acceptor.close(ignored);
  }

  const UiOptions options;
  asio::io_context ioc{1};
  LaunchTokens launch_tokens;
  LocalApi api;
  Server server;
  tcp::acceptor acceptor{ioc};
  bool started = false;
};

AppServer::AppServer(UiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

AppServer::~AppServer() = default;

Status AppServer::start() {
  auto& impl = *impl_;
  if (impl.started) return Error{"argument", "the app's server was started already", ""};
  impl.api.set_ca_file(impl.options.ca_file);
  if (auto opened = impl.api.start(); !opened) return opened;
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), impl.options.port);  // never anything but loopback
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    const bool in_use = ec == asio::error::address_in_use;
    return Error{"network",
                 "cannot listen on 127.0.0.1:" + std::to_string(impl.options.port) + ": " + ec.message() +
                     (in_use ? " (another program, or another field-client app, holds the port; choose another with --port)"
                             : ""),
                 "port"};
  }
  impl.server = Server{random_secret(), impl.acceptor.local_endpoint().port(), &impl.api, &impl.launch_tokens};
  impl.started = true;
  accept(impl.acceptor, impl.server);
  return {};
}

void AppServer::run() {
  impl_->ioc.run();
}

void AppServer::stop() { impl_->ioc.stop(); }

unsigned short AppServer::port() const { return impl_->server.port; }

const std::string& AppServer::key() const { return impl_->server.key; }

std::string AppServer::address() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string AppServer::launch_url() { return address() + "/?launch=" + impl_->launch_tokens.mint(); }

}  // namespace field_client::ui
