// `field-client app`: opens the tablet app in a browser on a one-time link (never the key on a
// command line), keeps serving after the window closes, and a second `field-client app` on
// the same store opens the running one instead of failing. The browser here is a script that
// records the address it was given; the test then opens that address as a browser would.
// Also the C example of a native shell (examples/app_shell.c, through libfield_client_c.so).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "process.h"
#include "temp_dir.h"
#include "ws_test_client.h"

namespace {

using test_support::http_request;

// A "browser" that appends the arguments it was given, one line per start, to `record`.
std::string recording_browser(const test_support::TempDir& dir, const std::string& name, const std::string& record) {
  const auto path = dir.file(name);
  std::ofstream(path) << "#!/bin/sh\necho \"$@\" >> '" << record << "'\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last line `record` holds once it has `lines` lines; fails after a deadline.
std::string wait_for_line(const std::string& record, std::size_t lines) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream text(read_file(record));
    std::vector<std::string> got;
    for (std::string line; std::getline(text, line);) got.push_back(line);
    if (got.size() >= lines) return got[lines - 1];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("the browser was not started with an address within 10 s: " << record);
  return "";
}

unsigned short port_in(const std::string& text) {
  const auto at = text.find("127.0.0.1:");
  REQUIRE(at != std::string::npos);
  return static_cast<unsigned short>(std::stoi(text.substr(at + 10)));
}

std::string target_of(const std::string& url) { return url.substr(url.find("/?")); }

std::string cookie_for(unsigned short port, const std::string& set_cookie) {
  return "ss_app_" + std::to_string(port) + "=" + set_cookie.substr(set_cookie.find('=') + 1, set_cookie.find(';') - set_cookie.find('=') - 1);
}

// Opens the launch link as a browser would: the cookie, then /app/ with it. Returns the cookie.
std::string open_link(unsigned short port, const std::string& url) {
  const auto opened = http_request(port, "GET", target_of(url));
  INFO(url << ": " << opened.body);
  REQUIRE(opened.status == 302);
  CHECK(opened.header("location") == "/app/");
  const auto set_cookie = opened.header("set-cookie");
  CHECK(set_cookie.rfind("ss_app_" + std::to_string(port) + "=", 0) == 0);
  CHECK(set_cookie.find("; Max-Age=2592000;") != std::string::npos);  // survives a browser restart
  CHECK(set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
  const auto cookie = cookie_for(port, set_cookie);
  CHECK(http_request(port, "GET", "/app/", {{"Cookie", cookie}}).status == 200);
  return cookie;
}

}  // namespace

TEST_CASE("field-client app opens the browser on a link that works once, and a second app opens the running one",
          "[e2e][app]") {
  test_support::TempDir dir;
  const auto store = dir.file("tablet.db");
  const auto record = dir.file("browser.log");
  const auto browser = recording_browser(dir, "browser.sh", record);
  test_support::ChildProcess app({FIELD_CLIENT_BINARY, "--store", store, "app", "--port", "0", "--browser", browser},
                                 dir.file("app.log"));
  const auto line = app.first_line();
  INFO(line);
  CHECK(line.find("serving http://127.0.0.1:") != std::string::npos);
  const auto port = port_in(line);

  const auto url = wait_for_line(record, 1);
  CHECK(url.rfind("http://127.0.0.1:" + std::to_string(port) + "/?launch=", 0) == 0);
  // <store>.app: the port and the key, for this user only; the key is not in the browser's arguments.
  struct stat file_stat {};
  REQUIRE(::stat((store + ".app").c_str(), &file_stat) == 0);
  CHECK((file_stat.st_mode & 0777) == 0600);
  const auto published = read_file(store + ".app");
  CHECK(published.rfind("port=" + std::to_string(port) + "\nkey=", 0) == 0);
  const auto key = published.substr(published.find("key=") + 4, 48);
  CHECK(url.find(key) == std::string::npos);

  const auto cookie = open_link(port, url);
  CHECK(cookie == "ss_app_" + std::to_string(port) + "=" + key);
  // The link works once: a used (or unknown) one says to open the app again, sets no cookie.
  const auto again = http_request(port, "GET", target_of(url), {{"Accept", "text/html"}});
  CHECK(again.status == 403);
  CHECK(again.header("content-type").rfind("text/html", 0) == 0);
  CHECK(again.body.find("used already") != std::string::npos);
  CHECK(again.header("set-cookie").empty());
  const auto unknown = http_request(port, "GET", "/?launch=" + std::string(48, 'a'));
  CHECK(unknown.status == 403);
  CHECK(unknown.header("content-type") == "application/json");
  CHECK(http_request(port, "GET", "/?launch=").status == 403);

  // A second `field-client app` on the store (the desktop entry clicked again, with another
  // --port): it opens the running app on a new link and exits.
  const auto second_browser = recording_browser(dir, "second.sh", dir.file("second.log"));
  const auto second = test_support::run_process(
      {FIELD_CLIENT_BINARY, "--store", store, "app", "--port", "1", "--browser", second_browser + " --app=%u"});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("already serving this store at http://127.0.0.1:" + std::to_string(port)) != std::string::npos);
  const auto second_line = wait_for_line(dir.file("second.log"), 1);
  REQUIRE(second_line.rfind("--app=http://127.0.0.1:", 0) == 0);  // %u replaced
  const auto second_url = second_line.substr(6);
  CHECK(port_in(second_url) == port);
  CHECK(second_url != url);
  open_link(port, second_url);
  CHECK(http_request(port, "GET", target_of(second_url)).status == 403);

  // --no-browser prints the link instead.
  const auto printed = test_support::run_process({FIELD_CLIENT_BINARY, "--store", store, "app", "--no-browser"});
  CHECK(printed.exit_code == 0);
  const auto link_at = printed.out.find("open http://127.0.0.1:");
  REQUIRE(link_at != std::string::npos);
  open_link(port, printed.out.substr(link_at + 5, printed.out.find('\n', link_at) - link_at - 5));

  // The app serves on whatever the browser does; it stops at SIGTERM and removes <store>.app.
  CHECK(http_request(port, "GET", "/api/status", {{"Cookie", cookie}}).status == 200);
  CHECK(app.stop() == 0);
  CHECK_FALSE(std::filesystem::exists(store + ".app"));
}

TEST_CASE("field-client app starts its own server when the app <store>.app names is gone", "[e2e][app]") {
  test_support::TempDir dir;
  const auto store = dir.file("tablet.db");
  // Left by an app that was killed: a port nothing serves now, and its key.
  std::ofstream(store + ".app") << "port=1\nkey=" << std::string(48, 'b') << "\n";
  test_support::ChildProcess app({FIELD_CLIENT_BINARY, "--store", store, "app", "--port", "0", "--no-browser"},
                                 dir.file("app.log"));
  const auto line = app.first_line();
  INFO(line);
  REQUIRE(line.find("open http://127.0.0.1:") != std::string::npos);
  const auto port = port_in(line);
  CHECK(port != 1);
  open_link(port, line.substr(line.find("http://")));
  CHECK(read_file(store + ".app").rfind("port=" + std::to_string(port) + "\n", 0) == 0);  // its own now
  CHECK(app.stop() == 0);
}

TEST_CASE("a launch link is given only to a program with the key", "[e2e][app]") {
  test_support::TempDir dir;
  const auto store = dir.file("tablet.db");
  test_support::ChildProcess ui({FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0"}, dir.file("ui.log"));
  const auto line = ui.first_line();
  const auto port = port_in(line);
  const auto key = line.substr(line.find("key=") + 4);
  const auto cookie = "ss_app_" + std::to_string(port) + "=" + key;
  const auto origin = "http://127.0.0.1:" + std::to_string(port);

  const auto minted = http_request(port, "POST", "/launch", {{"X-Field-Client-Key", key}});
  CHECK(minted.status == 200);
  CHECK(minted.body.find("\"launch_url\":\"" + origin + "/?launch=") != std::string::npos);
  // Not for the cookie (a page of the app, or any local page the browser sends it from), not
  // for a wrong key, not from another origin, not by GET.
  CHECK(http_request(port, "POST", "/launch", {{"Cookie", cookie}, {"Origin", origin}}).status == 403);
  CHECK(http_request(port, "POST", "/launch", {{"X-Field-Client-Key", std::string(48, '0')}}).status == 403);
  CHECK(http_request(port, "POST", "/launch", {{"X-Field-Client-Key", key}, {"Origin", "http://127.0.0.1:1"}}).status == 403);
  CHECK(http_request(port, "GET", "/launch", {{"X-Field-Client-Key", key}}).status == 404);
  CHECK(http_request(port, "POST", "/launch", {{"X-Field-Client-Key", key}, {"Host", "evil.example:" + std::to_string(port)}})
            .status == 421);
  // `ui` publishes <store>.app too, so that `field-client app` finds it.
  CHECK(read_file(store + ".app") == "port=" + std::to_string(port) + "\nkey=" + key + "\n");
  CHECK(ui.stop() == 0);
}

TEST_CASE("a browser that navigates to the app without the key gets a page saying what to do", "[e2e][app]") {
  test_support::TempDir dir;
  test_support::ChildProcess ui({FIELD_CLIENT_BINARY, "--store", dir.file("tablet.db"), "ui", "--port", "0"}, dir.file("ui.log"));
  const auto port = port_in(ui.first_line());
  const auto page = http_request(port, "GET", "/app/", {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  CHECK(page.status == 403);
  CHECK(page.header("content-type").rfind("text/html", 0) == 0);
  CHECK(page.body.find("field-client app") != std::string::npos);
  CHECK(page.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  const auto fetched = http_request(port, "GET", "/api/status", {{"Accept", "*/*"}});
  CHECK(fetched.status == 403);
  CHECK(fetched.header("content-type") == "application/json");
  // The manifest and the icons hold nothing of the tablet's: served without the key (a
  // browser fetches a manifest without cookies); the pages and the API still need it.
  for (const char* path : {"/app/manifest.webmanifest", "/app/icon.svg", "/app/icon-192.png", "/app/icon-512.png"}) {
    INFO(path);
    CHECK(http_request(port, "GET", path).status == 200);
  }
  CHECK(http_request(port, "GET", "/app/manifest.webmanifest").header("content-type") == "application/manifest+json");
  CHECK(http_request(port, "GET", "/app/icon-192.png").header("content-type") == "image/png");
  CHECK(http_request(port, "GET", "/app/app.js").status == 403);
  CHECK(http_request(port, "GET", "/app/icon.svg", {{"Host", "evil.example:" + std::to_string(port)}}).status == 421);
  CHECK(ui.stop() == 0);
}

TEST_CASE("a native shell starts the app through the C API, opens it once, and stops it", "[e2e][c-api][app]") {
  test_support::TempDir dir;
  test_support::ChildProcess shell({APP_SHELL_BINARY, dir.file("tablet.db")}, dir.file("shell.log"));
  const auto line = shell.first_line();
  INFO(line);
  // "app <status> ADDRESS KEY LAUNCH_URL <second status> <its error>"
  std::istringstream words(line);
  std::string tag, address, key, url, error;
  int status = -1, second_status = -1;
  words >> tag >> status >> address >> key >> url >> second_status;
  std::getline(words, error);
  REQUIRE(tag == "app");
  CHECK(status == 0);
  const auto port = port_in(address);
  CHECK(http_request(port, "GET", "/api/status", {{"X-Field-Client-Key", key}}).status == 200);
  open_link(port, url);
  CHECK(http_request(port, "GET", target_of(url)).status == 403);  // once
  CHECK(second_status == 5);  // FC_NETWORK: the port is taken
  CHECK(error.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(shell.stop() == 0);  // fc_app_stop, then it exits
  CHECK(http_request(port, "GET", "/api/status", {{"X-Field-Client-Key", key}}, "", std::chrono::seconds(2)).status == 0);
}
