// Issue 12 against a running sync-server: a device's open sessions end when its identity
// changes (revoked, enrolled again with a new token, user or role), and a push that arrives
// under the old identity is refused rather than applied.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

// The time from `since` until `client` is closed by the server (fails after `deadline`).
std::chrono::milliseconds until_closed(WsTestClient& client, std::chrono::steady_clock::time_point since,
                                       std::chrono::milliseconds deadline) {
  CHECK_FALSE(client.receive(deadline).has_value());
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
}

}  // namespace

TEST_CASE("enrolling a connected device again closes its old sessions with 1008 within the poll - new ones stay",
          "[e2e][identity]") {
  // Found by a test: a coordinator tablet connected, then `sync-server enroll` gave the same
  // device id a new token and the role officer; 4 s later the old socket still pulled with
  // coordinator scope.
  ServerProcess server({"--revocation-poll", "0.2"});
  server.start();
  const auto old_token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  const auto bystander_token = server.enroll("tab-ann-1", "officer.ann", "officer");
  auto old_session = join(server, "tab-cat-1", old_token);
  auto bystander = join(server, "tab-ann-1", bystander_token);

  const auto enrolled_at = std::chrono::steady_clock::now();
  const auto new_token = server.enroll("tab-cat-1", "officer.cat", "officer");
  CHECK(until_closed(*old_session, enrolled_at, 5s) < 2s);
  CHECK(old_session->close_code() == 1008);

  // The session opened with the new token is the device's current one: it stays open
  // through several polls, with the new user and role.
  WsTestClient current;
  REQUIRE(current.connect(server.port(), new_token).ok);
  const auto welcome = parse(current.request(hello("tab-cat-1")));
  CHECK(str(welcome, "user_id") == "officer.cat");
  CHECK(str(welcome, "role") == "officer");
  std::this_thread::sleep_for(1s);
  CHECK(str(parse(current.request(R"({"type":"pull","cursor":""})")), "type") == "changes");
  CHECK(str(parse(bystander->request(R"({"type":"pull","cursor":""})")), "type") == "changes");
}

TEST_CASE("enrolling a device again with the same user and role also closes its old sessions", "[e2e][identity]") {
  // Token rotation: the old token is refused at the next upgrade, so its open session must end too.
  ServerProcess server({"--revocation-poll", "0.2"});
  server.start();
  const auto old_token = server.enroll("tab-ann-1", "officer.ann", "officer");
  auto old_session = join(server, "tab-ann-1", old_token);
  const auto enrolled_at = std::chrono::steady_clock::now();
  server.enroll("tab-ann-1", "officer.ann", "officer");
  CHECK(until_closed(*old_session, enrolled_at, 5s) < 2s);
  CHECK(old_session->close_code() == 1008);
}

TEST_CASE("a push under an identity that changed since the session began is refused, not applied", "[e2e][identity]") {
  // Issue 12: the watcher closes the session within its poll, but a push may already be on
  // its way; it must be checked against the device's current credential in the write
  // transaction. A long poll here keeps the watcher out of the way.
  ServerProcess server({"--revocation-poll", "60"});
  server.start();
  const auto old_token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  auto old_session = join(server, "tab-cat-1", old_token);
  REQUIRE(num(parse(old_session->request(household_push(1, 1))), "acked_seq") == 1);

  const auto new_token = server.enroll("tab-cat-1", "officer.cat", "officer");
  const auto refused = parse(old_session->request(household_push(2, 2)));
  CHECK(str(refused, "type") == "error");
  CHECK(str(refused, "code") == "identity_changed");
  CHECK(flag(refused, "fatal") == true);
  CHECK_FALSE(old_session->receive(5s).has_value());
  CHECK(old_session->close_code() == 1008);

  auto current = join(server, "tab-cat-1", new_token);
  CHECK(num(parse(current->request(hello("tab-cat-1"))), "acked_seq") == 1);  // the second push left no trace

  // And after a revocation, likewise.
  auto revoked_session = join(server, "tab-cat-1", new_token);
  REQUIRE(server.admin({"revoke", "--device", "tab-cat-1"}).exit_code == 0);
  CHECK(str(parse(revoked_session->request(household_push(2, 2))), "code") == "identity_changed");
}
