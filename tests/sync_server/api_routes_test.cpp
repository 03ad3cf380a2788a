// The coordinator API's route table and the HTTP session's routing decisions
// (sync-server/src/net/api.cpp, net/http_routing.h), called directly on a store in memory:
// which endpoint answers, who may call it, and the answers for unknown paths and methods.
#include <catch2/catch.hpp>

#include <string>

#include "net/api.h"
#include "net/http_routing.h"
#include "sync_server/server_store.h"

using namespace sync_server;
namespace http = boost::beast::http;

namespace {

struct ApiFixture {
  std::unique_ptr<ServerStore> store;
  std::string coordinator, officer;

  ApiFixture() {
    auto opened = ServerStore::open(":memory:");
    REQUIRE(opened);
    store = std::move(*opened);
    coordinator = *store->enroll("route-coordinator", "coordinator.cat", safer::Role::coordinator);
    officer = *store->enroll("route-officer", "officer.ann", safer::Role::officer);
  }

  net::ApiResponse ask(const std::string& method, const std::string& path, const std::string& token,
                       const std::string& body = "") const {
    net::ApiRequest request;
    request.method = method;
    request.path = path;
    request.authorization = "Bearer " + token;
    request.body = body;
    return net::respond(*store, request);
  }
};

std::string header(const net::ApiResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace

TEST_CASE("each endpoint of the table answers its method, and HEAD is GET", "[api][routes]") {
  ApiFixture f;
  for (const char* path : {"/api/v1/stats", "/api/v1/overview", "/api/v1/version", "/api/v1/activity", "/api/v1/report",
                           "/api/v1/worklists/unvisited", "/api/v1/worklists/follow-ups", "/api/v1/worklists/follow-ups-due",
                           "/api/v1/households",
                           "/api/v1/devices", "/api/v1/devices/route-officer/rejections", "/api/v1/session"}) {
    INFO(path);
    CHECK(f.ask("GET", path, f.coordinator).status == 200);
    CHECK(f.ask("HEAD", path, f.coordinator).status == 200);
  }
  const auto exported = f.ask("GET", "/api/v1/exports/visits.csv", f.coordinator);
  CHECK(exported.status == 200);
  CHECK(exported.file != nullptr);
}

TEST_CASE("a known path with another method is 405 with Allow - an unknown path is 404", "[api][routes]") {
  ApiFixture f;
  const auto wrong_method = f.ask("PUT", "/api/v1/stats", f.coordinator);
  CHECK(wrong_method.status == 405);
  CHECK(header(wrong_method, "Allow") == "GET");
  CHECK(header(f.ask("POST", "/api/v1/session", f.coordinator), "Allow") == "GET, DELETE");
  CHECK(f.ask("GET", "/api/v1/nothing-here", f.coordinator).status == 404);
  CHECK(f.ask("PUT", "/api/v1/nothing-here", f.coordinator).status == 404);
  // An {id} holds no slash, and the suffix must match whole.
  CHECK(f.ask("GET", "/api/v1/devices/a/b/rejections", f.coordinator).status == 404);
  CHECK(f.ask("GET", "/api/v1/devices//rejections", f.coordinator).status == 404);
  CHECK(f.ask("POST", "/api/v1/devices/route-officer/revoked", f.coordinator).status == 404);
}

TEST_CASE("the household search is a POST with a small body, and the list refuses a search in its URL", "[api][routes]") {
  // docs/data-protection.md: search text (a piece of an address) never goes in a URL.
  ApiFixture f;
  CHECK(f.ask("POST", "/api/v1/households/search", f.coordinator, R"({"q":"lane"})").status == 200);
  CHECK(f.ask("POST", "/api/v1/households/search", f.officer, R"({"q":"lane"})").status == 403);
  CHECK(header(f.ask("GET", "/api/v1/households/search", f.coordinator), "Allow") == "POST");
  net::ApiRequest in_url;
  in_url.method = "GET";
  in_url.path = "/api/v1/households";
  in_url.query = {{"q", "lane"}};
  in_url.authorization = "Bearer " + f.coordinator;
  CHECK(net::respond(*f.store, in_url).status == 400);
  in_url.query = {{"ward", "Elstree"}};
  CHECK(net::respond(*f.store, in_url).status == 200);
  CHECK(net::max_body_bytes("POST", "/api/v1/households/search") == 4 * 1024);
  CHECK(net::max_body_bytes("POST", "/api/v1/households/search") < net::max_body_bytes("POST", "/api/v1/devices"));
}

TEST_CASE("only coordinators pass, and devices cannot enrol or revoke", "[api][routes]") {
  ApiFixture f;
  CHECK(f.ask("GET", "/api/v1/stats", f.officer).status == 403);
  CHECK(f.ask("GET", "/api/v1/stats", "sst_not-a-token").status == 401);
  net::ApiRequest anonymous;
  anonymous.method = "GET";
  anonymous.path = "/api/v1/stats";
  CHECK(net::respond(*f.store, anonymous).status == 401);
  // People only: a coordinator's device token can neither mint tokens nor revoke them.
  CHECK(f.ask("POST", "/api/v1/devices", f.coordinator, R"({"device_id":"x","user_id":"y","role":"officer"})").status == 403);
  CHECK(f.ask("POST", "/api/v1/devices/route-officer/revoke", f.coordinator).status == 403);
  for (const char* format : {"json", "csv"}) {
    const auto path = std::string("/api/v1/households/00000000-0000-4000-8000-000000000001/subject-access.") + format;
    CHECK(f.ask("GET", path, f.coordinator).status == 403);
  }
  CHECK(f.store->authenticate(f.officer));  // still enrolled
  // A device token may write what the table allows it to: the household's assignment.
  CHECK(f.ask("POST", "/api/v1/households/none/assignment", f.coordinator, R"({"assigned_to":null})").status == 404);
}

TEST_CASE("the session decides where a request goes before any endpoint runs", "[api][routes]") {
  const auto request = [](http::verb verb, const char* target, bool upgrade = false) {
    http::request<http::string_body> message{verb, target, 11};
    if (upgrade) {
      message.set(http::field::connection, "Upgrade");
      message.set(http::field::upgrade, "websocket");
    }
    return message;
  };
  using net::Destination;
  CHECK(net::destination(request(http::verb::get, "/v1/sync", true)) == Destination::websocket);
  CHECK(net::destination(request(http::verb::get, "/api/v1/stats", true)) == Destination::no_websocket_here);
  CHECK(net::destination(request(http::verb::get, "/v1/sync")) == Destination::upgrade_required);
  CHECK(net::destination(request(http::verb::head, "/healthz")) == Destination::health);
  CHECK(net::destination(request(http::verb::post, "/healthz")) == Destination::health_method);
  CHECK(net::destination(request(http::verb::get, "/readyz")) == Destination::ready);
  CHECK(net::destination(request(http::verb::get, "/readyz?probe=1")) == Destination::ready);
  CHECK(net::destination(request(http::verb::put, "/readyz")) == Destination::health_method);
  CHECK(net::destination(request(http::verb::get, "/metrics")) == Destination::metrics);
  CHECK(net::destination(request(http::verb::head, "/metrics")) == Destination::metrics);
  CHECK(net::destination(request(http::verb::post, "/metrics")) == Destination::health_method);
  CHECK(net::destination(request(http::verb::get, "/metrics/x")) == Destination::file);
  CHECK(net::destination(request(http::verb::get, "/api/v1/stats?from=2026-01-01")) == Destination::api);
  CHECK(net::destination(request(http::verb::delete_, "/api/v1/session")) == Destination::api);
  CHECK(net::destination(request(http::verb::get, "/dashboard/app.js")) == Destination::file);
  CHECK(net::destination(request(http::verb::post, "/dashboard/app.js")) == Destination::not_found);

  const auto api = net::api_request(request(http::verb::get, "/api/v1/households?ward=Bushey%20North&q=a+b"), "192.0.2.7", true);
  CHECK(api.path == "/api/v1/households");
  CHECK(api.query.at("ward") == "Bushey North");
  CHECK(api.query.at("q") == "a b");
  CHECK(api.peer == "192.0.2.7");
  CHECK(api.secure);
}
