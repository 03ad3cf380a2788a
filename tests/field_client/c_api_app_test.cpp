// fc_app_*: the tablet app's server for a native shell, on a thread of its own, with the same
// local security as `field-client ui` (the key, the one-time launch link), and a port that is
// taken refused cleanly.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "field_client/field_client.h"
#include "temp_dir.h"
#include "ws_test_client.h"

namespace {

std::string take(char* text) {
  std::string out = text != nullptr ? text : "";
  fc_free(text);
  return out;
}

unsigned short port_of(const fc_app* app) {
  const std::string address = fc_app_address(app);
  return static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
}

}  // namespace

TEST_CASE("fc_app_start serves the app on 127.0.0.1 until fc_app_stop", "[c-api][app]") {
  test_support::TempDir dir;
  const auto store = dir.file("tablet.db");
  fc_app* app = nullptr;
  char* error = nullptr;
  REQUIRE(fc_app_start(store.c_str(), 0, &app, &error) == FC_OK);
  CHECK(error == nullptr);
  const auto port = port_of(app);
  CHECK(std::string(fc_app_address(app)) == "http://127.0.0.1:" + std::to_string(port));
  const std::string key = fc_app_key(app);
  CHECK(key.size() == 48);

  // The local API with the key; nothing without it.
  const auto status = test_support::http_request(port, "GET", "/api/status", {{"X-Field-Client-Key", key}});
  CHECK(status.status == 200);
  CHECK(status.body.find("\"locked\":false") != std::string::npos);
  CHECK(test_support::http_request(port, "GET", "/api/status").status == 403);

  // The launch link opens the app once: the cookie, then /app/.
  char* url = nullptr;
  REQUIRE(fc_app_launch_url(app, &url) == FC_OK);
  const auto launch = take(url);
  const std::string prefix = std::string(fc_app_address(app)) + "/?launch=";
  REQUIRE(launch.rfind(prefix, 0) == 0);
  CHECK(launch.find(key) == std::string::npos);  // the link never carries the key
  const auto target = launch.substr(launch.find("/?"));
  const auto opened = test_support::http_request(port, "GET", target);
  CHECK(opened.status == 302);
  CHECK(opened.header("location") == "/app/");
  CHECK(opened.header("set-cookie").rfind("ss_app_" + std::to_string(port) + "=" + key + ";", 0) == 0);
  const auto page = test_support::http_request(port, "GET", "/app/", {{"Cookie", "ss_app_" + std::to_string(port) + "=" + key}});
  CHECK(page.status == 200);
  CHECK(page.body.find("<title>") != std::string::npos);
  CHECK(test_support::http_request(port, "GET", target).status == 403);  // used

  fc_app_stop(app);
  CHECK(test_support::http_request(port, "GET", "/api/status", {}, "", std::chrono::seconds(2)).status == 0);  // nothing answers
}

TEST_CASE("fc_app_start on a port that is taken fails cleanly, and the first app serves on", "[c-api][app]") {
  test_support::TempDir dir;
  const auto store = dir.file("tablet.db");
  fc_app* first = nullptr;
  REQUIRE(fc_app_start(store.c_str(), 0, &first, nullptr) == FC_OK);
  const auto port = port_of(first);

  fc_app* second = reinterpret_cast<fc_app*>(&dir);  // must be set to NULL
  char* error = nullptr;
  CHECK(fc_app_start(dir.file("other.db").c_str(), port, &second, &error) == FC_NETWORK);
  CHECK(second == nullptr);
  const auto message = take(error);
  CHECK(message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(message.find("--port") != std::string::npos);

  CHECK(test_support::http_request(port, "GET", "/api/status", {{"X-Field-Client-Key", fc_app_key(first)}}).status == 200);
  fc_app_stop(first);

  // The port is free again: a new app may have it, with a new key.
  fc_app* again = nullptr;
  REQUIRE(fc_app_start(store.c_str(), port, &again, nullptr) == FC_OK);
  CHECK(port_of(again) == port);
  fc_app_stop(again);
}

TEST_CASE("fc_app_* refuse NULLs and accept a NULL app to stop", "[c-api][app]") {
  fc_app* app = nullptr;
  char* error = nullptr;
  CHECK(fc_app_start(nullptr, 0, &app, &error) == FC_ARGUMENT);
  CHECK(app == nullptr);
  CHECK(error == nullptr);
  CHECK(fc_app_start("x.db", 0, nullptr, nullptr) == FC_ARGUMENT);
  char* url = nullptr;
  CHECK(fc_app_launch_url(nullptr, &url) == FC_ARGUMENT);
  CHECK(url == nullptr);
  CHECK(std::string(fc_app_address(nullptr)).empty());
  CHECK(std::string(fc_app_key(nullptr)).empty());
  fc_app_stop(nullptr);
}

TEST_CASE("fc_app_start reports a store that cannot be opened, and starts nothing", "[c-api][app]") {
  test_support::TempDir dir;
  const auto not_a_store = dir.file("notes.db");
  { std::ofstream(not_a_store) << "this is not an SQLite database, and long enough to be read as one: ............"; }
  fc_app* app = nullptr;
  char* error = nullptr;
  const auto status = fc_app_start(not_a_store.c_str(), 0, &app, &error);
  CHECK(status != FC_OK);
  CHECK(app == nullptr);
  CHECK_FALSE(take(error).empty());
}
