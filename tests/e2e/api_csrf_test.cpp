// docs/api.md "Authentication", CSRF: over real HTTP against the real sync-server, every write
// made with the dashboard's cookie needs the session's X-CSRF-Token and a same-site Origin;
// refused writes change nothing; bearer-token writes need no CSRF token.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace api_test;

struct Write {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
};

// The API's writes; `tag` keeps one run's devices and households apart from another's.
std::vector<Write> writes(const std::string& tag) {
  return {
      {"POST", "/api/v1/households/import",
       "id,address,postcode,ward,target,assigned_to\r\n,9 " + tag + " Lane,WD6 1WA,Shenley,1,\r\n", "text/csv"},
      {"POST", "/api/v1/households/search", R"({"q":"9 )" + tag + R"( Lane"})", "application/json"},
      {"POST", "/api/v1/households/" + uuid(1) + "/assignment", R"({"assigned_to":"officer.)" + tag + R"("})",
       "application/json"},
      {"POST", "/api/v1/devices", R"({"device_id":"tab-new-)" + tag + R"(","user_id":"officer.ann","role":"officer"})",
       "application/json"},
      {"POST", "/api/v1/devices/tab-rev-" + tag + "/revoke", "", ""},
      {"DELETE", "/api/v1/session", "", ""},
  };
}

// Sends every write with `headers`, each requiring `expected`.
void send_all(const ServerProcess& server, const std::string& tag, const Headers& headers, int expected) {
  for (const auto& write : writes(tag)) {
    const auto reply = call(server, write.method, write.target, headers, write.body, write.content_type);
    INFO(tag << ": " << write.method << " " << write.target << " -> " << reply.status << " " << reply.body);
    if (expected == 403) {
      CHECK(reply.status == 403);
      CHECK(str(parse(reply.body), "error") == "csrf");
    } else {
      CHECK(reply.status >= 200);
      CHECK(reply.status < 300);
    }
  }
}

struct Snapshot {
  std::int64_t households = 0;
  std::string assigned_to;
  std::vector<std::string> devices;  // "id revoked?"
};

Snapshot snapshot(const ServerProcess& server, const std::string& token) {
  Snapshot out;
  const auto households = get_json(server, "/api/v1/households", token);
  out.households = num(households, "total").value_or(-1);
  for (const auto& household : households["households"].GetArray()) {
    if (str(household, "id") == uuid(1)) out.assigned_to = str(household, "assigned_to");
  }
  const auto devices = get_json(server, "/api/v1/devices", token);
  for (const auto& device : devices["devices"].GetArray()) {
    out.devices.push_back(str(device, "device_id") + (flag(device, "revoked") == true ? " revoked" : ""));
  }
  return out;
}

}  // namespace

TEST_CASE("cookie writes without the right CSRF token or from another origin get 403 csrf and change nothing",
          "[e2e][api]") {
  // docs/api.md: a page on another site can make the browser send the cookie, but cannot read
  // the CSRF token nor hide its Origin; such a request must not assign, enrol, revoke or log out.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Example Road", "Elstree", true));
  for (const char* tag : {"missing", "wrong", "evil", "evil-no-token"}) {
    server.enroll(std::string("tab-rev-") + tag, "officer.rev", "officer");
  }
  const auto session = log_in(server);
  const auto before = snapshot(server, cat.token);

  send_all(server, "missing", with_cookie(session, ""), 403);
  send_all(server, "wrong", with_cookie(session, "0123456789abcdef0123456789abcdef"), 403);
  auto evil = with_cookie(session);
  evil.emplace_back("Origin", "http://evil.example");
  send_all(server, "evil", evil, 403);
  auto evil_no_token = with_cookie(session, "");
  evil_no_token.emplace_back("Origin", "http://evil.example");
  send_all(server, "evil-no-token", evil_no_token, 403);

  const auto after = snapshot(server, cat.token);
  CHECK(after.households == before.households);
  CHECK(after.assigned_to == "<null>");
  CHECK(after.devices == before.devices);
  CHECK(call(server, "GET", "/api/v1/session", with_cookie(session)).status == 200);  // still logged in
}

TEST_CASE("cookie writes with the right CSRF token and a same-site or absent Origin succeed", "[e2e][api]") {
  // docs/api.md: the positive half: the dashboard itself sends the token, with or without Origin.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Example Road", "Elstree", true));
  server.enroll("tab-rev-same", "officer.rev", "officer");
  server.enroll("tab-rev-absent", "officer.rev", "officer");

  auto same_site = with_cookie(log_in(server));
  same_site.emplace_back("Origin", "http://127.0.0.1:" + std::to_string(server.port()));
  send_all(server, "same", same_site, 200);
  CHECK(snapshot(server, cat.token).assigned_to == "officer.same");
  send_all(server, "absent", with_cookie(log_in(server)), 200);

  const auto after = snapshot(server, cat.token);
  CHECK(after.households == 3);
  CHECK(after.assigned_to == "officer.absent");
  const auto listed = [&after](const std::string& entry) {
    return std::find(after.devices.begin(), after.devices.end(), entry) != after.devices.end();
  };
  CHECK(listed("tab-new-same"));
  CHECK(listed("tab-new-absent"));
  CHECK(listed("tab-rev-same revoked"));
  CHECK(listed("tab-rev-absent revoked"));
}

TEST_CASE("bearer-token writes need no CSRF token", "[e2e][api]") {
  // docs/api.md: browsers never attach a bearer token by themselves, so scripts need no CSRF dance.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Example Road", "Elstree", true));
  server.enroll("tab-rev-script", "officer.rev", "officer");
  for (const auto& write : writes("script")) {
    if (write.method == "DELETE") continue;  // a token has no session to end
    const auto reply = call(server, write.method, write.target, bearer(cat.token), write.body, write.content_type);
    INFO(write.method << " " << write.target << " -> " << reply.status << " " << reply.body);
    if (write.target.rfind("/api/v1/devices", 0) == 0) {
      CHECK(reply.status == 403);  // enrolment and revocation need a person (api_devices_test.cpp)
      continue;
    }
    CHECK(reply.status >= 200);
    CHECK(reply.status < 300);
  }
  CHECK(snapshot(server, cat.token).assigned_to == "officer.script");
}
