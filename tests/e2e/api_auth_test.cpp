// docs/api.md "Authentication" over real HTTP against the real sync-server: every endpoint
// refuses callers without credentials (401) and devices of other roles (403), and serves a
// coordinator's device token and a dashboard session alike.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace api_test;

struct Endpoint {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
};

// Household 1 exists; devices "tab-rev-<tag>" are enrolled, to be revoked. `tag` keeps the
// writes of one caller apart from another's. DELETE /api/v1/session comes last.
std::vector<Endpoint> endpoints(const std::string& tag) {
  return {
      {"GET", "/api/v1/session", "", ""},
      {"GET", "/api/v1/overview?from=2026-04-01&to=2027-03-31", "", ""},
      {"GET", "/api/v1/version", "", ""},
      {"GET", "/api/v1/stats", "", ""},
      {"GET", "/api/v1/worklists/unvisited?ward=Elstree", "", ""},
      {"GET", "/api/v1/worklists/follow-ups", "", ""},
      {"GET", "/api/v1/worklists/follow-ups-due", "", ""},
      {"GET", "/api/v1/activity", "", ""},
      {"GET", "/api/v1/households?limit=10", "", ""},
      {"POST", "/api/v1/households/import",
       "id,address,postcode,ward,target,assigned_to\r\n,7 " + tag + " Close,WD6 1WA,Elstree,1,\r\n", "text/csv"},
      {"POST", "/api/v1/households/" + uuid(1) + "/assignment", R"({"assigned_to":"officer.)" + tag + R"("})",
       "application/json"},
      {"GET", "/api/v1/devices", "", ""},
      {"POST", "/api/v1/devices", R"({"device_id":"tab-new-)" + tag + R"(","user_id":"officer.ann","role":"officer"})",
       "application/json"},
      {"POST", "/api/v1/devices/tab-rev-" + tag + "/revoke", "", ""},
      {"GET", "/api/v1/devices/tab-ann-1/rejections", "", ""},
      {"GET", "/api/v1/exports/visits.csv?from=2026-04-01&to=2027-03-31", "", ""},
      {"GET", "/api/v1/exports/commute_sessions.csv", "", ""},
      {"GET", "/api/v1/referrals?partner=fire_service", "", ""},
      {"GET", "/api/v1/exports/referrals.csv?partner=health", "", ""},
      {"POST", "/api/v1/referrals/sent", R"({"partner":"health","all":true})", "application/json"},
      {"GET", "/api/v1/report?year=2026", "", ""},
      {"DELETE", "/api/v1/session", "", ""},
  };
}

const std::vector<std::string> kTags = {"none", "unknown", "forged", "revoked", "officer", "pcso", "token", "cookie"};

// Enrolling and revoking: done by people (a dashboard session), never with a device token.
bool manages_devices(const Endpoint& endpoint) {
  return endpoint.method == "POST" && endpoint.target.rfind("/api/v1/devices", 0) == 0;
}

// Every endpoint of endpoints(tag) with `headers` answers `expected` (or any 2xx when 200);
// those that manage devices answer `device_management` instead when it is given.
void check_all(const ServerProcess& server, const std::string& tag, const Headers& headers, int expected,
               int device_management = 0) {
  for (const auto& endpoint : endpoints(tag)) {
    const auto reply = call(server, endpoint.method, endpoint.target, headers, endpoint.body, endpoint.content_type);
    INFO(tag << ": " << endpoint.method << " " << endpoint.target << " -> " << reply.status << " " << reply.body);
    if (device_management != 0 && manages_devices(endpoint)) {
      CHECK(reply.status == device_management);
      CHECK(str(parse(reply.body), "error").find("dashboard login") != std::string::npos);
    } else if (expected == 200) {
      CHECK(reply.status >= 200);
      CHECK(reply.status < 300);
      const bool csv = endpoint.target.find(".csv") != std::string::npos;
      if (reply.status != 204) CHECK(reply.header("content-type").rfind(csv ? "text/csv" : "application/json", 0) == 0);
    } else {
      CHECK(reply.status == expected);
      CHECK(str(parse(reply.body), "error") != "<absent>");  // errors are JSON {"error": …}
    }
  }
}

}  // namespace

TEST_CASE("every API endpoint needs a coordinator: 401 without credentials, 403 for other roles", "[e2e][api]") {
  // docs/api.md: the register, the devices and the exports hold personal data and must never
  // reach an officer's tablet token or an anonymous caller, whatever the endpoint.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Example Road", "Elstree", true));
  const auto officer = server.enroll("tab-ann-1", "officer.ann", "officer");
  const auto pcso = server.enroll("tab-pat-1", "pcso.pat", "pcso");
  const auto former = server.enroll("tab-old-1", "coord.old", "coordinator");
  REQUIRE(server.admin({"revoke", "--device", "tab-old-1"}).exit_code == 0);
  for (const auto& tag : kTags) server.enroll("tab-rev-" + tag, "officer.rev", "officer");

  check_all(server, "none", {}, 401);
  check_all(server, "unknown", bearer("f3a9c1d2e4b5a6978877665544332211f3a9c1d2e4b5a697"), 401);
  check_all(server, "forged", {{"Cookie", "ss_session=made-up-cookie-0123456789abcdef"}, {"X-CSRF-Token", "x"}}, 401);
  check_all(server, "revoked", bearer(former), 401);  // a revoked coordinator tablet
  check_all(server, "officer", bearer(officer), 403);
  check_all(server, "pcso", bearer(pcso), 403);

  // Nothing that was refused had an effect.
  const auto devices = get_json(server, "/api/v1/devices", cat.token);
  for (const auto& device : devices["devices"].GetArray()) {
    INFO(str(device, "device_id"));
    CHECK(str(device, "device_id").rfind("tab-new-", 0) == std::string::npos);
    CHECK(flag(device, "revoked") == (str(device, "device_id") == "tab-old-1"));
  }
  const auto households = get_json(server, "/api/v1/households", cat.token);
  CHECK(num(households, "total") == 1);
  REQUIRE(households["households"].Size() == 1);
  CHECK(str(households["households"][0], "assigned_to") == "<null>");
}

TEST_CASE("every API endpoint serves a dashboard session, and a coordinator's device token all but device management",
          "[e2e][api]") {
  // docs/api.md: scripts use a coordinator's token, the dashboard its cookie; both read and
  // write everything except enrolment and revocation, which only people do (issue 12: a
  // stolen coordinator tablet must not mint tokens or replace another tablet's).
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Example Road", "Elstree", true));
  server.enroll("tab-ann-1", "officer.ann", "officer");
  for (const auto& tag : kTags) server.enroll("tab-rev-" + tag, "officer.rev", "officer");

  check_all(server, "token", bearer(cat.token), 200, 403);  // no CSRF token: bearer requests need none
  const auto session = log_in(server);
  check_all(server, "cookie", with_cookie(session), 200);

  // The writes of both took effect.
  const auto devices = get_json(server, "/api/v1/devices", cat.token);
  std::vector<std::string> enrolled, revoked;
  for (const auto& device : devices["devices"].GetArray()) {
    if (str(device, "device_id").rfind("tab-new-", 0) == 0) enrolled.push_back(str(device, "device_id"));
    if (flag(device, "revoked") == true) revoked.push_back(str(device, "device_id"));
  }
  std::sort(enrolled.begin(), enrolled.end());
  CHECK(enrolled == std::vector<std::string>{"tab-new-cookie"});
  std::sort(revoked.begin(), revoked.end());
  CHECK(revoked == std::vector<std::string>{"tab-rev-cookie"});
  CHECK(num(get_json(server, "/api/v1/households", cat.token), "total") == 3);  // 1 + one import each
}
