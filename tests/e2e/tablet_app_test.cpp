// `field-client ui`, the tablet app's local server: only 127.0.0.1, only its own Host, only
// with this launch's key; its API records and validates as the store does; the PIN lock holds.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <thread>

#include "child_process.h"
#include "process.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace {

using test_support::http_request;

struct App {
  test_support::TempDir dir;
  std::string store = dir.file("tablet.db");
  std::unique_ptr<test_support::ChildProcess> process;
  unsigned short port = 0;
  std::string key;

  explicit App(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<test_support::ChildProcess>(argv, dir.file("ui.log"));
    const std::string line = process->first_line();  // "field-client ui: open http://127.0.0.1:PORT/?key=KEY"
    const auto host = line.find("127.0.0.1:");
    port = static_cast<unsigned short>(std::stoi(line.substr(host + 10)));
    key = line.substr(line.find("key=") + 4);
  }

  std::vector<std::pair<std::string, std::string>> with_key() const { return {{"X-Field-Client-Key", key}}; }
  test_support::HttpReply call(const std::string& method, const std::string& target, const std::string& body = "") const {
    return http_request(port, method, target, with_key(), body);
  }
};

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  INFO(text);
  REQUIRE(document.IsObject());
  return document;
}

}  // namespace

TEST_CASE("the tablet app answers only its own host, and only with this launch's key", "[e2e][ui]") {
  App app;
  const std::string base = "/api/status";
  CHECK(http_request(app.port, "GET", base).status == 403);                                   // no key
  // The key with its first character changed (a fixed "0" was the key itself one time in 16).
  const std::string wrong_key = (app.key[0] == '0' ? "1" : "0") + app.key.substr(1);
  CHECK(http_request(app.port, "GET", base, {{"X-Field-Client-Key", wrong_key}}).status == 403);
  CHECK(http_request(app.port, "GET", base, {{"Cookie", "fc_key=guess"}}).status == 403);
  CHECK(http_request(app.port, "GET", base, {{"Host", "evil.example:" + std::to_string(app.port)},
                                             {"X-Field-Client-Key", app.key}}).status == 421);  // DNS rebinding
  CHECK(http_request(app.port, "GET", "/app/").status == 403);

  const auto launch = http_request(app.port, "GET", "/?key=" + app.key);
  CHECK(launch.status == 302);
  CHECK(launch.header("location") == "/app/");
  const auto cookie = launch.header("set-cookie");
  CHECK(cookie.find("fc_key=" + app.key) == 0);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(http_request(app.port, "GET", "/?key=wrong").status == 403);

  const auto page = http_request(app.port, "GET", "/app/", {{"Cookie", "fc_key=" + app.key}});
  CHECK(page.status == 200);
  CHECK(page.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(http_request(app.port, "GET", base, {{"Cookie", "fc_key=" + app.key}}).status == 200);

  // A launch key opens only its own launch.
  App other;
  CHECK(http_request(other.port, "GET", base, {{"X-Field-Client-Key", app.key}}).status == 403);
}

TEST_CASE("the app's API records, validates, counts card holders and reports rejections", "[e2e][ui]") {
  App app;
  const auto invalid = app.call("POST", "/api/households", R"({"address":"","postcode":"nope","ward":"Atlantis"})");
  CHECK(invalid.status == 400);
  const auto problems = parse(invalid.body);
  CHECK(problems["errors"].Size() == 3);
  CHECK(parse(app.call("GET", "/api/households").body)["households"].Size() == 0);  // nothing saved

  const auto created = app.call("POST", "/api/households", R"({"address":"3 Example Row","postcode":"wd6 3ab","ward":"Elstree"})");
  REQUIRE(created.status == 201);
  const std::string household = parse(created.body)["id"].GetString();
  const auto visit_body = [&](const char* status, bool follow_up, const char* at) {
    return std::string(R"({"household_id":")") + household + R"(","visited_at":")" + at + R"(","status":")" + status +
           R"(","follow_up_required":)" + (follow_up ? "true" : "false") + "}";
  };
  REQUIRE(app.call("POST", "/api/visits", visit_body("completed", true, "2026-11-20T10:00:00Z")).status == 201);
  auto listed = parse(app.call("GET", "/api/households?q=WD63").body);  // postcode without its space
  REQUIRE(listed["households"].Size() == 1);
  CHECK(listed["households"][0]["follow_up_outstanding"].GetBool());
  CHECK(listed["households"][0]["mine"].GetBool());
  REQUIRE(app.call("POST", "/api/visits", visit_body("completed", false, "2026-11-25T10:00:00Z")).status == 201);
  listed = parse(app.call("GET", "/api/households?q=EXAMPLE%20row").body);
  CHECK_FALSE(listed["households"][0]["follow_up_outstanding"].GetBool());
  CHECK(std::string(listed["households"][0]["last_visit"]["visited_at"].GetString()) == "2026-11-25T10:00:00.000Z");

  const auto check = parse(app.call("POST", "/api/validate/visit", visit_body("no_answer", true, "2026-11-26T10:00:00Z")).body);
  REQUIRE(check["errors"].Size() == 1);
  CHECK(std::string(check["errors"][0]["field"].GetString()) == "follow_up_required");

  const auto session = app.call("POST", "/api/commute", R"({"station":"Radlett","started_at":"2026-11-26T07:00:00Z","cards_distributed":0})");
  REQUIRE(session.status == 201);
  const std::string id = parse(session.body)["id"].GetString();
  for (int i = 0; i < 5; ++i) app.call("POST", "/api/commute/" + id + "/count", R"({"delta":1})");
  const auto corrected = parse(app.call("POST", "/api/commute/" + id + "/count", R"({"delta":-1})").body);
  CHECK(corrected["cards_distributed"].GetInt() == 4);
  CHECK(app.call("POST", "/api/commute/" + id + "/count", R"({"delta":"lots"})").status == 400);
  const auto status = parse(app.call("GET", "/api/status").body);
  CHECK(status["pending"].GetInt() == 10);  // household, 2 visits, session, 5 counts and 1 correction
  CHECK(status["online"].IsNull());        // no server yet: neither online nor offline
}

TEST_CASE("with a PIN the app locks after the idle time and opens only for the right PIN", "[e2e][ui]") {
  test_support::TempDir dir;
  const std::string store = dir.file("tablet.db");
  const auto pin = test_support::run_process({FIELD_CLIENT_BINARY, "--store", store, "set-pin"},
                                             test_support::ProcessOptions{.input = "2468\n"});
  REQUIRE(pin.exit_code == 0);
  CHECK(test_support::run_process({FIELD_CLIENT_BINARY, "--store", store, "set-pin"},
                                  test_support::ProcessOptions{.input = "12\n"}).exit_code == 2);

  test_support::ChildProcess process({FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0", "--pin-lock-minutes", "0.005"});
  const std::string line = process.first_line();
  const auto port = static_cast<unsigned short>(std::stoi(line.substr(line.find("127.0.0.1:") + 10)));
  const std::vector<std::pair<std::string, std::string>> key = {{"X-Field-Client-Key", line.substr(line.find("key=") + 4)}};
  CHECK(http_request(port, "GET", "/api/households", key).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // past 0.3 s of idleness
  CHECK(http_request(port, "GET", "/api/households", key).status == 423);
  CHECK(parse(http_request(port, "GET", "/api/status", key).body)["locked"].GetBool());
  CHECK(http_request(port, "POST", "/api/unlock", key, R"({"pin":"1357"})").status == 403);
  CHECK(http_request(port, "GET", "/api/households", key).status == 423);
  CHECK(http_request(port, "POST", "/api/unlock", key, R"({"pin":"2468"})").status == 200);
  CHECK(http_request(port, "GET", "/api/households", key).status == 200);
}

TEST_CASE("the app syncs by itself once a server is there", "[e2e][ui]") {
  test_support::ServerProcess server;
  server.start();
  const auto token = server.enroll("tablet-ui", "officer.ann", "officer");
  const auto coordinator = server.enroll("coordinator-desk", "coord.cat", "coordinator");
  App app({"--sync-interval", "0.2", "--retry-base", "0.05", "--max-backoff", "0.2"});
  REQUIRE(test_support::run_process({FIELD_CLIENT_BINARY, "--store", app.store, "enroll", "--server", server.url(),
                                     "--token", token, "--device", "tablet-ui"}).exit_code == 0);
  REQUIRE(app.call("POST", "/api/commute", R"({"station":"Potters Bar","started_at":"2026-11-26T07:00:00Z","cards_distributed":25})").status == 201);
  int sessions = 0;
  for (int i = 0; i < 100 && sessions == 0; ++i) {  // within 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rapidjson::Document stats;
    stats.Parse(test_support::http_get(server.port(), "/api/v1/stats", coordinator).body.c_str());
    if (stats.IsObject()) sessions = stats["commute_aware"]["sessions"].GetInt();
  }
  CHECK(sessions == 1);
  const auto status = parse(app.call("GET", "/api/status").body);
  CHECK(status["online"].GetBool());
  CHECK(status["user_id"].GetString() == std::string("officer.ann"));
}
