// docs/api.md "Accounts" over real HTTP against the real sync-server (both backends): create,
// disable and enable, reset and change of passwords, and that the sessions they end really end.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace api_test;

const std::string kBobPassword = "Orchard-Pewter-Lantern-5521";
const std::string kNewPassword = "Granite-Willow-Beacon-8830";

// GET /api/v1/session with this session: 200 while it lives, 401 once it has ended.
int session_status(const ServerProcess& server, const WebSession& session) {
  return call(server, "GET", "/api/v1/session", with_cookie(session, "")).status;
}

HttpReply post(const ServerProcess& server, const WebSession& session, const std::string& target, const std::string& body) {
  return call(server, "POST", target, with_cookie(session), body);
}

std::string account_body(const std::string& username, const std::string& password) {
  return R"({"username":)" + json_string(username) + R"(,"password":)" + json_string(password) + "}";
}

}  // namespace

TEST_CASE("a coordinator creates an account, and disabling it ends its sessions at once", "[e2e][api]") {
  ServerProcess server;
  server.start();
  add_coordinator(server);
  const auto cat = log_in(server);

  const auto created = post(server, cat, "/api/v1/accounts", account_body("bob", kBobPassword));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(post(server, cat, "/api/v1/accounts", account_body("bob", kBobPassword)).status == 409);
  const auto weak = post(server, cat, "/api/v1/accounts", account_body("dee", "short"));
  CHECK(weak.status == 400);
  CHECK(weak.body.find("short") == std::string::npos);  // the password is never echoed

  const auto bob = log_in(server, "bob", kBobPassword);
  REQUIRE(session_status(server, bob) == 200);
  const auto listed = call(server, "GET", "/api/v1/accounts", with_cookie(cat, ""));
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(R"("username":"bob")") != std::string::npos);
  CHECK(listed.body.find("password") == std::string::npos);
  CHECK(listed.body.find("hash") == std::string::npos);

  REQUIRE(post(server, cat, "/api/v1/accounts/bob/disable", "{}").status == 200);
  CHECK(session_status(server, bob) == 401);
  const auto refused = log_in_reply(server, "bob", kBobPassword);
  CHECK(refused.status == 403);
  CHECK(refused.body.find("disabled") != std::string::npos);

  // Nobody disables themselves; with bob disabled cat is the last enabled account anyway.
  CHECK(post(server, cat, "/api/v1/accounts/cat/disable", "{}").status == 403);
  CHECK(session_status(server, cat) == 200);

  REQUIRE(post(server, cat, "/api/v1/accounts/bob/enable", "{}").status == 200);
  log_in(server, "bob", kBobPassword);
  CHECK(post(server, cat, "/api/v1/accounts/nobody/enable", "{}").status == 404);
}

TEST_CASE("a password reset ends the account's sessions - a change ends one's other sessions", "[e2e][api]") {
  ServerProcess server;
  server.start();
  add_coordinator(server);
  add_coordinator(server, "bob", kBobPassword);
  const auto cat = log_in(server);
  const auto cat_elsewhere = log_in(server);
  const auto bob = log_in(server, "bob", kBobPassword);

  SECTION("reset") {
    REQUIRE(post(server, cat, "/api/v1/accounts/bob/password", R"({"password":)" + json_string(kNewPassword) + "}").status == 200);
    CHECK(session_status(server, bob) == 401);
    CHECK(session_status(server, cat) == 200);
    CHECK(log_in_reply(server, "bob", kBobPassword).status == 401);
    log_in(server, "bob", kNewPassword);
    // One's own password is changed, not reset.
    CHECK(post(server, cat, "/api/v1/accounts/cat/password", R"({"password":)" + json_string(kNewPassword) + "}").status == 403);
  }
  SECTION("change one's own") {
    const auto wrong = post(server, cat, "/api/v1/session/password",
                            R"({"current_password":"Not-The-Password-1234","new_password":)" + json_string(kNewPassword) + "}");
    CHECK(wrong.status == 403);
    CHECK(session_status(server, cat_elsewhere) == 200);
    const auto changed = post(server, cat, "/api/v1/session/password",
                              R"({"current_password":)" + json_string(kPassword) + R"(,"new_password":)" +
                                  json_string(kNewPassword) + "}");
    INFO(changed.body);
    REQUIRE(changed.status == 200);
    CHECK(session_status(server, cat) == 200);
    CHECK(session_status(server, cat_elsewhere) == 401);
    CHECK(session_status(server, bob) == 200);
    log_in(server, "cat", kNewPassword);
  }
}

TEST_CASE("accounts are managed from a dashboard login only, with its CSRF token", "[e2e][api]") {
  ServerProcess server;
  server.start();
  add_coordinator(server);
  const auto cat = log_in(server);

  // Without the CSRF token, or from another site: refused, nothing created.
  const auto no_csrf = call(server, "POST", "/api/v1/accounts", with_cookie(cat, ""), account_body("bob", kBobPassword));
  CHECK(no_csrf.status == 403);
  auto headers = with_cookie(cat);
  headers.emplace_back("Origin", "http://evil.example");
  CHECK(call(server, "POST", "/api/v1/accounts", headers, account_body("bob", kBobPassword)).status == 403);
  CHECK(log_in_reply(server, "bob", kBobPassword).status == 401);

  // A coordinator's device token cannot manage accounts.
  const auto token = server.enroll("coord-tablet", "cat", "coordinator");
  CHECK(call(server, "GET", "/api/v1/accounts", bearer(token)).status == 403);
  CHECK(call(server, "POST", "/api/v1/accounts", bearer(token), account_body("bob", kBobPassword)).status == 403);

  // Every change is audited, without the password.
  REQUIRE(post(server, cat, "/api/v1/accounts", account_body("bob", kBobPassword)).status == 201);
  const auto audit = call(server, "GET", "/api/v1/audit?action=account_add", with_cookie(cat, ""));
  REQUIRE(audit.status == 200);
  CHECK(audit.body.find(R"("username":"bob")") != std::string::npos);
  CHECK(audit.body.find(kBobPassword) == std::string::npos);
}
