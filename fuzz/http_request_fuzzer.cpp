// Fuzz target: the HTTP request path of the sync server, from the bytes on the connection to
// the coordinator API's answer.
//
// The input is what a client writes on one keep-alive connection: requests are read one after
// another with Beast's request_parser and the limits of net/http_session.cpp, and each is
// routed by the server's own net::destination() (net/http_routing.h), as HttpSession::handle()
// routes it: the WebSocket upgrade's token check, /healthz, the API (respond() and its route
// table on the calling thread, as handle_api() runs it on a pool thread) and the dashboard's
// files (static_file(), over a stand-in asset table). The fuzzer links the server's network
// library (sync_server_net), so it runs the code the server runs.
//
// The store is opened once on ":memory:", with a fixed clock, and holds a coordinator device,
// an officer device and a dashboard login. The input names them by placeholders that are
// replaced before the request is answered: TOKEN (the coordinator's device token), OFFICER
// (the officer's), SESSION (the dashboard session cookie) and CSRF (its CSRF token), in the
// Authorization, Cookie and X-CSRF-Token headers. State carries from one input to the next
// (households imported, devices enrolled): the store is opened afresh every kFreshStoreEvery
// inputs to bound it, and a crash that needs earlier inputs may not reproduce alone.
//
// Two requests are not answered, because each would cost an scrypt (about half a second) and
// slow the fuzzer a hundredfold: a well-formed login (POST /api/v1/session with a username and
// a password; the server answers it with net/login.cpp's handle_login(), not respond()), and
// logging the fixture's own session out.
//
// Invariants, each a finding when broken (the target aborts):
//  - respond() answers every request with a status of 200..599 other than 503 (503 means an
//    exception escaped to respond()'s last resort: an in-memory store never fails);
//  - an application/json body is valid UTF-8 JSON;
//  - no header value carries a CR or LF (no response splitting).
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "net/api.h"
#include "net/http_routing.h"
#include "safer/bearer_token.h"
#include "safer/json_object.h"
#include "safer/text.h"
#include "safer/validation.h"
#include "sync_server/server_store.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace sync_server;

// As in net/http_session.cpp.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 10 * 1024 * 1024;

constexpr std::size_t kFreshStoreEvery = 20'000;
constexpr std::size_t kMaxRequestsPerInput = 8;
constexpr safer::UnixMillis kNow = 1'764'149'400'000;  // 2025-11-26T09:30:00Z
constexpr const char* kCoordinatorDevice = "fuzz-coordinator";
constexpr const char* kAccount = "coordinator";
constexpr const char* kPassword = "safer-streets-fuzz";

[[noreturn]] void finding(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "http_request_fuzzer: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

struct Fixture {
  std::unique_ptr<ServerStore> store;
  std::string coordinator_token, officer_token, session, csrf;
  std::size_t inputs = 0;

  void open() {
    StoreOptions options;
    options.wall_clock = [] { return kNow; };
    auto opened = ServerStore::open(":memory:", options);
    if (!opened) finding("cannot open a store on :memory:", opened.error().message);
    store = std::move(*opened);
    enroll_coordinator();
    auto officer = store->enroll("fuzz-officer", "officer.ann", safer::Role::officer);
    if (!officer) finding("cannot enroll the officer device", officer.error().message);
    officer_token = *officer;
    if (auto added = store->add_coordinator(kAccount, kPassword); !added) finding("cannot add the account", added.error().message);
    const auto login = store->log_in({kAccount, kPassword, "127.0.0.1", false});
    if (login.outcome != ServerStore::Login::Outcome::ok) finding("cannot log in to the fixture's account");
    session = login.session_token;
    csrf = login.csrf_token;
  }

  void enroll_coordinator() {
    auto token = store->enroll(kCoordinatorDevice, "fuzz.coordinator", safer::Role::coordinator);
    if (!token) finding("cannot enroll the coordinator device", token.error().message);
    coordinator_token = *token;
  }

  // The API may revoke or re-enroll the fixture's device; give it a working token again.
  void restore() {
    if (!store->authenticate(coordinator_token)) enroll_coordinator();
  }
};

Fixture& fixture() {
  static Fixture instance = [] {
    Fixture f;
    f.open();
    return f;
  }();
  return instance;
}

void replace_all(std::string& text, std::string_view placeholder, const std::string& value) {
  for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

void check_response(const net::ApiResponse& response, const net::ApiRequest& request) {
  const std::string what = request.method + " " + request.path;
  if (response.status < 200 || response.status > 599) finding("a status outside 200..599 for", what);
  if (response.status == 503) finding("503 (an exception reached respond()) for", what);
  if (response.content_type.rfind("application/json", 0) == 0 && !response.body.empty()) {
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(response.body.c_str(), response.body.size());
    if (document.HasParseError()) finding("a JSON response is not valid JSON:", what);
  }
  for (const auto& [name, value] : response.headers) {
    if (name.find_first_of("\r\n") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
      finding("a response header carries a line break:", what);
    }
  }
}

// A well-formed login, which respond() would check with scrypt (see the top of this file).
bool is_scrypt_login(const net::ApiRequest& request) {
  if (request.method != "POST" || request.path != "/api/v1/session") return false;
  // The checks net/login.cpp makes before its scrypt, with the same reader.
  const auto body = safer::JsonObject::parse(request.body);
  return body && body->is_string("password") && body->is_string("username") &&
         safer::is_valid_user_id(*body->string("username"));
}

// The request as the API sees it (net::api_request(), as HttpSession::api() makes it), with
// the fixture's credentials put in for the placeholders.
net::ApiRequest api_request(const http::request<http::string_body>& request, const Fixture& f) {
  net::ApiRequest api = net::api_request(request, "127.0.0.1", false);
  replace_all(api.authorization, "TOKEN", f.coordinator_token);
  replace_all(api.authorization, "OFFICER", f.officer_token);
  replace_all(api.cookie, "SESSION", f.session);
  replace_all(api.csrf_token, "CSRF", f.csrf);
  return api;
}

// HttpSession::handle(), by the same net::destination(). Returns false when the connection
// would end after this request.
bool handle(Fixture& f, http::request<http::string_body>& request) {
  switch (net::destination(request)) {
    case net::Destination::websocket: {
      // HttpSession::upgrade(): the bearer token, looked up in the store.
      std::string authorization(request[http::field::authorization]);
      replace_all(authorization, "TOKEN", f.coordinator_token);
      replace_all(authorization, "OFFICER", f.officer_token);
      const std::string token = safer::bearer_token(authorization);
      if (!token.empty() && f.store->authenticate(token)) return false;  // the WebSocket takes the connection over
      return request.keep_alive();
    }
    case net::Destination::api: {
      const auto api = api_request(request, f);
      if (is_scrypt_login(api)) return false;
      if (api.method == "DELETE" && api.path == "/api/v1/session" && api.cookie.find(f.session) != std::string::npos) {
        return false;  // would end the fixture's session
      }
      check_response(net::respond(*f.store, api), api);
      f.restore();
      return request.keep_alive();
    }
    case net::Destination::file: {
      const std::string_view target(request.target().data(), request.target().size());
      if (auto file = net::static_file(std::string(net::target_path(target)))) check_response(*file, api_request(request, f));
      return request.keep_alive();
    }
    case net::Destination::no_websocket_here:
    case net::Destination::health:
    case net::Destination::ready:
    case net::Destination::metrics:  // its access check: metrics_test.cpp
    case net::Destination::health_method:
    case net::Destination::upgrade_required:
    case net::Destination::not_found:
      return request.keep_alive();
  }
  return request.keep_alive();
}

// Reads the next request from `input` as HttpSession::read() and on_header() do; removes
// what it used. nullopt when the connection would end (malformed, too large, or no more).
std::optional<http::request<http::string_body>> read_request(std::string_view& input) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  beast::error_code ec;
  bool body_limited = false;
  while (!parser.is_done()) {
    if (parser.is_header_done() && !body_limited) {
      const auto limit = net::body_limit(parser.get());
      if (parser.content_length() && *parser.content_length() > limit) return std::nullopt;  // 413, then close
      parser.body_limit(limit);
      parser.eager(true);
      body_limited = true;
    }
    if (!input.empty()) {
      const std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
      input.remove_prefix(used);
      if (ec && ec != http::error::need_more) return std::nullopt;  // 413 for the limits; else the connection ends
      if (used > 0) continue;
    }
    // Every byte the client sent was in `input`: the parser wants more, and the stream ends.
    ec = {};
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return std::nullopt;
  }
  return parser.release();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  if (++f.inputs % kFreshStoreEvery == 0) f.open();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::size_t i = 0; i < kMaxRequestsPerInput && !input.empty(); ++i) {
    auto request = read_request(input);
    if (!request || !handle(f, *request)) break;
  }
  return 0;
}
