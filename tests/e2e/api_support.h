// Helpers shared by the end-to-end tests of the coordinator JSON API (tests/e2e/api_*_test.cpp,
// docs/api.md) against the real sync-server: a dashboard account and login, HTTP calls with a
// device token or a session cookie, devices that push records over WebSocket, record bodies.
// Builds on contract_support.h; what only one test file needs stays in that file.
#pragma once

#include "contract_support.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "process.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace api_test {

using contract_test::at;
using contract_test::flag;
using contract_test::num;
using contract_test::parse;
using contract_test::str;
using contract_test::uuid;
using test_support::HttpReply;
using test_support::ServerProcess;
using test_support::WsTestClient;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The dashboard password of every test account (fictional; at least 12 characters).
inline const std::string kPassword = "Lantern-Harbour-Quartz-7319";

// The server's default wards (protocol.md §5).
inline const std::vector<std::string> kWards = {
    "Aldenham East", "Aldenham West", "Bentley Heath & The Royds", "Borehamwood Brookmeadow",
    "Borehamwood Cowley Hill", "Borehamwood Hillside", "Borehamwood Kenilworth", "Bushey Heath",
    "Bushey North", "Bushey Park", "Bushey St James", "Elstree", "Potters Bar Furzefield",
    "Potters Bar Oakmere", "Potters Bar Parkfield", "Shenley"};

// `text` as a JSON string literal, quotes included.
inline std::string json_string(const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  return buffer.GetString();
}

// ---- Accounts and credentials ----

// Creates the dashboard account `username` with `sync-server add-coordinator` (password on stdin).
inline void add_coordinator(const ServerProcess& server, const std::string& username = "cat",
                            const std::string& password = kPassword) {
  const auto added = test_support::run_process(
      {test_support::sync_server_binary(), "add-coordinator", "--db", server.db_path(), "--username", username},
      [&password] {
        test_support::ProcessOptions options;
        options.input = password + "\n";
        return options;
      }());
  INFO(added.out << added.err);
  REQUIRE(added.exit_code == 0);
}

inline HttpReply log_in_reply(const ServerProcess& server, const std::string& username, const std::string& password) {
  return test_support::http_request(server.port(), "POST", "/api/v1/session", {{"Content-Type", "application/json"}},
                                    R"({"username":)" + json_string(username) + R"(,"password":)" +
                                        json_string(password) + "}");
}

// A dashboard login: the Cookie header value to send back and the session's CSRF token.
struct WebSession {
  std::string cookie;  // "ss_session=…"
  std::string csrf_token;
};

// "ss_session=abc" from "ss_session=abc; Path=/; HttpOnly".
inline std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

// Logs in (requiring 200) and returns the session.
inline WebSession log_in(const ServerProcess& server, const std::string& username = "cat",
                         const std::string& password = kPassword) {
  const auto reply = log_in_reply(server, username, password);
  INFO(reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  const auto body = parse(reply.body);
  return {cookie_pair(reply.header("set-cookie")), str(body, "csrf_token")};
}

inline Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Headers of a dashboard request: the cookie and, when `csrf` is not empty, X-CSRF-Token.
inline Headers with_cookie(const WebSession& session, const std::string& csrf) {
  Headers headers{{"Cookie", session.cookie}};
  if (!csrf.empty()) headers.emplace_back("X-CSRF-Token", csrf);
  return headers;
}
inline Headers with_cookie(const WebSession& session) { return with_cookie(session, session.csrf_token); }

inline HttpReply call(const ServerProcess& server, const std::string& method, const std::string& target,
                      Headers headers, const std::string& body = "", const std::string& content_type = "") {
  if (!content_type.empty()) {
    headers.emplace_back("Content-Type", content_type);
  } else if (!body.empty()) {
    headers.emplace_back("Content-Type", "application/json");
  }
  return test_support::http_request(server.port(), method, target, headers, body);
}

// GET `target` with a coordinator's token, requiring 200; the body as JSON.
inline rapidjson::Document get_json(const ServerProcess& server, const std::string& target, const std::string& token) {
  const auto reply = test_support::http_get(server.port(), target, token);
  INFO("GET " << target << " -> " << reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  rapidjson::Document document;
  REQUIRE_FALSE(document.Parse(reply.body.c_str(), reply.body.size()).HasParseError());
  return document;
}

// ---- Records ----

inline std::string household(const std::string& address, const std::string& ward, bool target,
                             const std::string& postcode = "WD6 1WA", const std::string& assigned_to = "") {
  return R"({"address":)" + json_string(address) + R"(,"postcode":")" + postcode + R"(","ward":")" + ward +
         R"(","target":)" + (target ? "true" : "false") +
         (assigned_to.empty() ? std::string() : R"(,"assigned_to":")" + assigned_to + '"') + "}";
}

// A visit to household `household_n`; `extra` is more fields, each starting with a comma.
inline std::string visit(int household_n, const std::string& visited_at, const std::string& status,
                         const std::string& extra = "") {
  return R"({"household_id":")" + uuid(household_n) + R"(","visited_at":")" + visited_at + R"(","status":")" +
         status + '"' + extra + "}";
}

inline std::string commute(const std::string& station, const std::string& started_at, int cards,
                           const std::string& extra = "") {
  return R"({"station":")" + station + R"(","started_at":")" + started_at + R"(","cards_distributed":)" +
         std::to_string(cards) + extra + "}";
}

// ---- Devices ----

// An enrolled device with an open session; push() sends one change with the next seq.
struct Device {
  std::string token;
  std::unique_ptr<WsTestClient> client;
  std::int64_t seq = 0;

  Device(const ServerProcess& server, const std::string& device, const std::string& user, const std::string& role)
      : token(server.enroll(device, user, role)), client(contract_test::join(server, device, token)) {}

  // Pushes record `n` of `entity` (`data` empty for a delete) with `hlc` (default: now, and
  // later than any earlier call); returns the ack.
  rapidjson::Document push(const std::string& entity, int n, const std::string& data,
                           const std::string& op = "upsert", const std::string& hlc = "") {
    ++seq;
    return parse(client->request(R"({"type":"push","changes":[{"seq":)" + std::to_string(seq) +
                                 R"(,"entity":")" + entity + R"(","op":")" + op + R"(","id":")" + uuid(n) +
                                 R"(","hlc":")" + (hlc.empty() ? contract_test::next_hlc() : hlc) + '"' +
                                 (data.empty() ? "" : R"(,"data":)" + data) + "}]}"));
  }

  // push(), requiring that the change was applied.
  void write(const std::string& entity, int n, const std::string& data, const std::string& op = "upsert",
             const std::string& hlc = "") {
    const auto ack = push(entity, n, data, op, hlc);
    INFO(entity << " " << n << " " << data);
    REQUIRE(at(ack, {"acked_seq"}) == seq);
    REQUIRE(ack.HasMember("rejected"));
    REQUIRE(ack["rejected"].Empty());
  }

  // The ids of the households (or every record, when `entity` is empty) a pull from "" brings.
  std::set<std::string> pulled(const std::string& entity = "household") {
    const auto page = parse(client->request(R"({"type":"pull","cursor":"","limit":1000})"));
    REQUIRE(str(page, "type") == "changes");
    std::set<std::string> ids;
    for (const auto& item : page["changes"].GetArray()) {
      if (entity.empty() || str(item, "entity") == entity) ids.insert(str(item, "id"));
    }
    return ids;
  }
};

}  // namespace api_test
