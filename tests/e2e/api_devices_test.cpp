// docs/api.md "Devices" over real HTTP against the real sync-server: enrolling a tablet from
// the dashboard, the device list, a device's rejected changes, and revocation.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {

using namespace api_test;
using namespace std::chrono_literals;

// POST /api/v1/devices as `caller` (a dashboard session's headers, or a bearer token's).
HttpReply enroll(const ServerProcess& server, const Headers& caller, const std::string& device,
                 const std::string& user, const std::string& role) {
  return call(server, "POST", "/api/v1/devices", caller,
              R"({"device_id":")" + device + R"(","user_id":")" + user + R"(","role":")" + role + R"("})");
}

// The entry of `device` in GET /api/v1/devices, copied; fails the test when it is not listed.
rapidjson::Document device_entry(const ServerProcess& server, const std::string& token, const std::string& device) {
  const auto reply = get_json(server, "/api/v1/devices", token);
  rapidjson::Document out;
  for (const auto& item : reply["devices"].GetArray()) {
    if (str(item, "device_id") == device) out.CopyFrom(item, out.GetAllocator());
  }
  INFO(device);
  REQUIRE(out.IsObject());
  return out;
}

// The upgrade's HTTP status: 101 when accepted (then the welcome's user and role are checked).
int upgrade(const ServerProcess& server, const std::string& device, const std::string& token,
            const std::string& user = "", const std::string& role = "") {
  WsTestClient client;
  const auto outcome = client.connect(server.port(), token);
  if (!outcome.ok) return outcome.http_status;
  const auto welcome = parse(client.request(contract_test::hello(device)));
  CHECK(str(welcome, "type") == "welcome");
  CHECK(str(welcome, "user_id") == user);
  CHECK(str(welcome, "role") == role);
  return 101;
}

}  // namespace

TEST_CASE("a device enrolled through the API gets a token that opens a sync session", "[e2e][api]") {
  // docs/api.md: coordinators enrol tablets from the dashboard instead of the server's shell.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  add_coordinator(server);
  const auto person = with_cookie(log_in(server));

  const auto enrolled = enroll(server, person, "tab-zoe-1", "officer.zoe", "pcso");
  INFO(enrolled.body);
  REQUIRE(enrolled.status == 201);
  const auto body = parse(enrolled.body);
  CHECK(str(body, "device_id") == "tab-zoe-1");
  const std::string token = str(body, "token");
  CHECK(token.size() >= 16);
  CHECK(upgrade(server, "tab-zoe-1", token, "officer.zoe", "pcso") == 101);

  const auto listed = device_entry(server, cat.token, "tab-zoe-1");
  CHECK(str(listed, "user_id") == "officer.zoe");
  CHECK(str(listed, "role") == "pcso");
  CHECK(flag(listed, "revoked") == false);
  CHECK(num(listed, "acked_seq") == 0);
  CHECK(str(listed, "enrolled_at").back() == 'Z');
  CHECK(listed["last_sync_at"].IsNull());  // connected, but nothing synced yet
  CHECK(num(listed, "rejected") == 0);
  CHECK(str(listed, "token") == "<absent>");  // the token is shown once, never listed

  // Enrolling a known device replaces its token.
  const auto again = enroll(server, person, "tab-zoe-1", "officer.zoe", "pcso");
  REQUIRE(again.status == 201);
  const std::string replacement = str(parse(again.body), "token");
  CHECK(replacement != token);
  CHECK(upgrade(server, "tab-zoe-1", token) == 401);
  CHECK(upgrade(server, "tab-zoe-1", replacement, "officer.zoe", "pcso") == 101);

  CHECK(enroll(server, person, "tab-zoe-2", "officer.zoe", "sergeant").status == 400);
  CHECK(enroll(server, person, "tab zoe 3", "officer.zoe", "officer").status == 400);
  CHECK(enroll(server, person, "tab-zoe-4", "", "officer").status == 400);
  CHECK(call(server, "POST", "/api/v1/devices", person, "not json").status == 400);
}

TEST_CASE("the device list and rejections show what a device's changes came to", "[e2e][api]") {
  // docs/api.md: when an officer says "my visit did not sync", the coordinator finds the
  // rejected change, its code and the field at fault.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  ann.write("household", 1, household("1 Elm Road", "Elstree", false));
  const auto invalid = ann.push("household", 2, household("2 Elm Road", "Atlantis", false));
  REQUIRE(invalid["rejected"].Size() == 1);
  const auto forbidden = ann.push("household", 3, household("3 Elm Road", "Elstree", true));
  REQUIRE(forbidden["rejected"].Size() == 1);

  const auto listed = device_entry(server, cat.token, "tab-ann-1");
  CHECK(str(listed, "user_id") == "officer.ann");
  CHECK(str(listed, "role") == "officer");
  CHECK(num(listed, "acked_seq") == 3);
  CHECK(num(listed, "rejected") == 2);
  CHECK(str(listed, "last_sync_at").back() == 'Z');
  CHECK(num(device_entry(server, cat.token, "tab-cat-1"), "rejected") == 0);

  const auto reply = get_json(server, "/api/v1/devices/tab-ann-1/rejections", cat.token);
  const auto& rejections = reply["rejections"];
  REQUIRE(rejections.Size() == 2);
  const auto& newest = rejections[0];  // newest first
  CHECK(num(newest, "seq") == 3);
  CHECK(str(newest, "entity") == "household");
  CHECK(str(newest, "record_id") == uuid(3));
  CHECK(str(newest, "code") == "forbidden");
  CHECK(str(newest, "field") == "target");
  CHECK(str(newest, "message").find("target") != std::string::npos);
  CHECK(str(newest, "at").back() == 'Z');
  const auto& older = rejections[1];
  CHECK(num(older, "seq") == 2);
  CHECK(str(older, "record_id") == uuid(2));
  CHECK(str(older, "code") == "invalid");
  CHECK(str(older, "field") == "ward");
  CHECK(str(older, "message").find("ward") != std::string::npos);

  CHECK(get_json(server, "/api/v1/devices/tab-cat-1/rejections", cat.token)["rejections"].Empty());
}

TEST_CASE("a revoked device's token is refused at the next upgrade and its open session closes", "[e2e][api]") {
  // docs/api.md: a lost tablet is cut off from the dashboard at once, not at its next restart.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device lost(server, "tab-lost-1", "officer.ann", "officer");
  Device kept(server, "tab-kept-1", "officer.ann", "officer");
  add_coordinator(server);
  const auto person = with_cookie(log_in(server));

  const auto started = std::chrono::steady_clock::now();
  const auto revoked = call(server, "POST", "/api/v1/devices/tab-lost-1/revoke", person);
  INFO(revoked.body);
  REQUIRE(revoked.status == 200);
  CHECK(str(parse(revoked.body), "device_id") == "tab-lost-1");
  CHECK(flag(parse(revoked.body), "revoked") == true);
  CHECK_FALSE(lost.client->receive(3s).has_value());  // closed by the server
  CHECK(std::chrono::steady_clock::now() - started < 1500ms);

  CHECK(upgrade(server, "tab-lost-1", lost.token) == 401);
  CHECK(flag(device_entry(server, cat.token, "tab-lost-1"), "revoked") == true);
  CHECK(flag(device_entry(server, cat.token, "tab-kept-1"), "revoked") == false);
  CHECK(upgrade(server, "tab-kept-1", kept.token, "officer.ann", "officer") == 101);  // same user, other tablet
  kept.write("household", 1, household("1 Elm Road", "Elstree", false));

  // Enrolling the device again (the tablet was found) gives it a new token; the old one stays refused.
  const auto again = enroll(server, person, "tab-lost-1", "officer.ann", "officer");
  REQUIRE(again.status == 201);
  CHECK(upgrade(server, "tab-lost-1", str(parse(again.body), "token"), "officer.ann", "officer") == 101);
  CHECK(upgrade(server, "tab-lost-1", lost.token) == 401);
  CHECK(flag(device_entry(server, cat.token, "tab-lost-1"), "revoked") == false);
}

TEST_CASE("revoke and wipe closes the session and answers the next upgrade 410", "[e2e][api][wipe]") {
  // Issue 14 §2: a lost tablet is told to erase its data; only a person may order it.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device lost(server, "tab-lost-1", "officer.ann", "officer");
  add_coordinator(server);
  const auto person = with_cookie(log_in(server));

  CHECK(call(server, "POST", "/api/v1/devices/tab-lost-1/wipe", bearer(cat.token)).status == 403);
  CHECK(flag(device_entry(server, cat.token, "tab-lost-1"), "wipe") == false);
  const auto wiped = call(server, "POST", "/api/v1/devices/tab-lost-1/wipe", person);
  INFO(wiped.body);
  REQUIRE(wiped.status == 200);
  CHECK(flag(parse(wiped.body), "revoked") == true);
  CHECK(flag(parse(wiped.body), "wipe") == true);
  CHECK_FALSE(lost.client->receive(3s).has_value());  // closed by the server
  CHECK(upgrade(server, "tab-lost-1", lost.token) == 410);
  const auto listed = device_entry(server, cat.token, "tab-lost-1");
  CHECK(flag(listed, "revoked") == true);
  CHECK(flag(listed, "wipe") == true);
  CHECK(call(server, "POST", "/api/v1/devices/tab-nobody/wipe", person).status == 404);
}

TEST_CASE("a coordinator's device token can neither enrol, re-enrol nor revoke devices", "[e2e][api]") {
  // Issue 12: device management belongs to people (a dashboard login or the sync-server
  // command). Whoever holds a stolen coordinator tablet must not be able to mint tokens or
  // replace another tablet's, so that revoking that one tablet cuts them off entirely.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device ann(server, "tab-ann-1", "officer.ann", "officer");

  const auto minted = enroll(server, bearer(cat.token), "tab-thief-1", "coord.thief", "coordinator");
  INFO(minted.body);
  CHECK(minted.status == 403);
  CHECK(str(parse(minted.body), "error").find("dashboard login") != std::string::npos);
  CHECK(enroll(server, bearer(cat.token), "tab-ann-1", "officer.ann", "coordinator").status == 403);
  CHECK(call(server, "POST", "/api/v1/devices/tab-ann-1/revoke", bearer(cat.token)).status == 403);

  // Nothing changed: no new device, and ann's token and session still work.
  const auto listed = get_json(server, "/api/v1/devices", cat.token);
  CHECK(listed["devices"].Size() == 2);
  CHECK(upgrade(server, "tab-ann-1", ann.token, "officer.ann", "officer") == 101);
  ann.write("household", 1, household("1 Elm Road", "Elstree", false));

  // Revoking the coordinator tablet (a person, on the host) leaves its holder nothing.
  REQUIRE(server.admin({"revoke", "--device", "tab-cat-1"}).exit_code == 0);
  CHECK(test_support::http_get(server.port(), "/api/v1/devices", cat.token).status == 401);
  CHECK(enroll(server, bearer(cat.token), "tab-thief-2", "coord.thief", "coordinator").status == 401);
}
