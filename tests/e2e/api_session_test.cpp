// docs/api.md "POST/GET/DELETE /api/v1/session" over real HTTP against the real sync-server:
// the dashboard login, its cookie, the lock-out after failed logins, log-out, and that the
// password is kept neither in the database nor in the log.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace api_test;

const std::string kWrongPassword = "Meadow-Copper-Violin-4482";

// The attributes of a Set-Cookie header after its name=value pair, lower-cased and trimmed.
std::vector<std::string> cookie_attributes(const std::string& set_cookie) {
  std::vector<std::string> attributes;
  std::stringstream stream(set_cookie);
  std::string part;
  std::getline(stream, part, ';');  // name=value
  while (std::getline(stream, part, ';')) {
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    std::transform(part.begin(), part.end(), part.begin(), [](unsigned char c) { return std::tolower(c); });
    attributes.push_back(part);
  }
  return attributes;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

}  // namespace

TEST_CASE("the right password gets an HttpOnly SameSite=Strict session cookie and a CSRF token", "[e2e][api]") {
  // docs/api.md: the cookie must be out of reach of page scripts and never sent cross-site,
  // and on plain HTTP a Secure cookie would never come back, so it must not be marked Secure.
  ServerProcess server;
  server.start();
  add_coordinator(server);

  const auto reply = log_in_reply(server, "cat", kPassword);
  REQUIRE(reply.status == 200);
  const auto body = parse(reply.body);
  CHECK(str(body, "username") == "cat");
  const std::string csrf = str(body, "csrf_token");
  CHECK(csrf.size() >= 16);

  const std::string set_cookie = reply.header("set-cookie");
  INFO("Set-Cookie: " << set_cookie);
  const std::string pair = cookie_pair(set_cookie);
  REQUIRE(pair.rfind("ss_session=", 0) == 0);
  CHECK(pair.size() >= std::string("ss_session=").size() + 16);
  const auto attributes = cookie_attributes(set_cookie);
  CHECK(has(attributes, "httponly"));
  CHECK(has(attributes, "samesite=strict"));
  CHECK(has(attributes, "path=/"));
  CHECK_FALSE(has(attributes, "secure"));
  CHECK(pair.find(csrf) == std::string::npos);  // the CSRF token is not the session token

  const auto session = test_support::http_request(server.port(), "GET", "/api/v1/session", {{"Cookie", pair}});
  REQUIRE(session.status == 200);
  CHECK(str(parse(session.body), "username") == "cat");
  CHECK(str(parse(session.body), "csrf_token") == csrf);
}

TEST_CASE("a wrong password or an unknown user gets 401 and no cookie", "[e2e][api]") {
  // docs/api.md: a failed login must not open a session, nor say which half was wrong.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  const auto wrong = log_in_reply(server, "cat", kWrongPassword);
  CHECK(wrong.status == 401);
  CHECK(wrong.header("set-cookie").find("ss_session=") == std::string::npos);
  const auto unknown = log_in_reply(server, "nobody.here", kPassword);
  CHECK(unknown.status == 401);
  CHECK(unknown.header("set-cookie").find("ss_session=") == std::string::npos);
  CHECK(str(parse(wrong.body), "error") == str(parse(unknown.body), "error"));
  CHECK(log_in_reply(server, "cat", "").status == 401);
}

TEST_CASE("after 5 failures the account is locked even for the right password, other accounts are not", "[e2e][api]") {
  // docs/api.md: the lock-out stops password guessing; a guesser must not learn the password
  // by trying it sixth, and must not lock out a colleague.
  ServerProcess server;
  server.start();
  add_coordinator(server, "cat");
  add_coordinator(server, "dan");
  for (int attempt = 1; attempt <= 5; ++attempt) {
    INFO("attempt " << attempt);
    REQUIRE(log_in_reply(server, "cat", kWrongPassword + std::to_string(attempt)).status == 401);
  }
  const auto locked = log_in_reply(server, "cat", kPassword);
  INFO(locked.body);
  CHECK(locked.status == 429);
  CHECK(locked.header("set-cookie").find("ss_session=") == std::string::npos);
  const auto body = parse(locked.body);
  CHECK(str(body, "error") != "<absent>");
  const auto retry_after_s = num(body, "retry_after_s");
  REQUIRE(retry_after_s.has_value());
  CHECK(*retry_after_s > 0);
  CHECK(*retry_after_s > 14 * 60);  // locked for 15 minutes from the fifth failure, a moment ago
  CHECK(*retry_after_s <= 15 * 60);
  const std::string retry_after = locked.header("retry-after");
  REQUIRE_FALSE(retry_after.empty());
  CHECK(std::all_of(retry_after.begin(), retry_after.end(), [](unsigned char c) { return std::isdigit(c); }));
  CHECK(std::stoll(retry_after) > 0);

  CHECK(log_in_reply(server, "cat", kWrongPassword).status == 429);  // no oracle while locked

  const auto other = log_in_reply(server, "dan", kPassword);
  CHECK(other.status == 200);
  CHECK(str(parse(other.body), "username") == "dan");
}

TEST_CASE("log-out ends the session on the server and clears the cookie", "[e2e][api]") {
  // docs/api.md: after log-out a copied cookie must be worthless, not merely forgotten by the browser.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  const auto session = log_in(server);
  const auto other_tab = log_in(server);  // another browser of the same coordinator
  const auto bye = call(server, "DELETE", "/api/v1/session", with_cookie(session));
  CHECK(bye.status == 204);
  const std::string cleared = bye.header("set-cookie");
  INFO("Set-Cookie: " << cleared);
  CHECK(cookie_pair(cleared) == "ss_session=");
  const auto attributes = cookie_attributes(cleared);
  const bool expires = has(attributes, "max-age=0") ||
                       std::any_of(attributes.begin(), attributes.end(),
                                   [](const std::string& a) { return a.rfind("expires=", 0) == 0; });
  CHECK(expires);

  CHECK(call(server, "GET", "/api/v1/session", with_cookie(session)).status == 401);
  CHECK(call(server, "GET", "/api/v1/overview", with_cookie(session)).status == 401);
  CHECK(call(server, "DELETE", "/api/v1/session", with_cookie(session)).status == 401);
  CHECK(call(server, "GET", "/api/v1/session", with_cookie(other_tab)).status == 200);  // only this session ended
}

TEST_CASE("a made-up session cookie gets 401", "[e2e][api]") {
  // A cookie value the server did not issue must open nothing.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  log_in(server);
  for (const std::string cookie : {"ss_session=0123456789abcdef0123456789abcdef", "ss_session=", "ss_session",
                                   "other=1; ss_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    INFO(cookie);
    CHECK(test_support::http_request(server.port(), "GET", "/api/v1/session", {{"Cookie", cookie}}).status == 401);
  }
}

TEST_CASE("the password is in neither the database file, its WAL, nor the server log", "[e2e][api][sqlite-only]") {
  // A stolen database or log must not hand out coordinators' passwords, right or mistyped.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  log_in(server);
  CHECK(log_in_reply(server, "cat", kWrongPassword).status == 401);
  const auto session = log_in(server);
  CHECK(call(server, "GET", "/api/v1/session", with_cookie(session)).status == 200);

  const auto check_files = [&](const char* when) {
    std::vector<std::string> files = {server.db_path()};
    for (const char* suffix : {"-wal", "-journal"}) {
      if (std::filesystem::exists(server.db_path() + suffix)) files.push_back(server.db_path() + suffix);
    }
    for (const auto& path : files) {
      const std::string bytes = file_bytes(path);
      INFO(when << ": " << path << " (" << bytes.size() << " bytes)");
      CHECK(bytes.size() > 0);
      CHECK(bytes.find(kPassword) == std::string::npos);
      CHECK(bytes.find(kWrongPassword) == std::string::npos);
    }
  };
  check_files("while serving");
  const std::string log = server.log();
  CHECK(log.find("cat") != std::string::npos);  // the log was read: it names the user
  CHECK(log.find(kPassword) == std::string::npos);
  CHECK(log.find(kWrongPassword) == std::string::npos);
  CHECK(log.find(session.csrf_token) == std::string::npos);
  CHECK(log.find(session.cookie.substr(session.cookie.find('=') + 1)) == std::string::npos);
  REQUIRE(server.stop() == 0);
  check_files("after shutdown");
  CHECK(server.log().find(kPassword) == std::string::npos);
}
