// The audit trail end to end (docs/api.md "Audit trail", docs/server.md): a dashboard login,
// an export, an assignment, a search and a CLI enrolment against the real sync-server, then
// the trail listed through the API and the CLI, verified, and searched for personal data.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using namespace api_test;

const std::string kAddress = "17 Quillmoor Close";   // fictional
const std::string kPostcode = "WD6 9ZZ";
const std::string kNote = "Spare key kept under the blue planter";

// `sync-server audit <command> --db … <options>` on the server's database.
test_support::ProcessResult audit_command(const ServerProcess& server, const std::string& command,
                                          const std::vector<std::string>& options = {}) {
  std::vector<std::string> argv{test_support::sync_server_binary(), "audit", command, "--db", server.db_path()};
  argv.insert(argv.end(), options.begin(), options.end());
  return test_support::run_process(argv);
}

// The entries of GET /api/v1/audit`query` with the session, requiring 200.
rapidjson::Document audit_list(const ServerProcess& server, const WebSession& session, const std::string& query = "") {
  const auto reply = call(server, "GET", "/api/v1/audit" + query, with_cookie(session, ""));
  INFO(reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  return parse(reply.body);
}

// The first entry of `list` with `action` (and `kind`, when given), or nullptr.
const rapidjson::Value* find_entry(const rapidjson::Document& list, const std::string& action, const std::string& kind = "") {
  for (const auto& entry : list["entries"].GetArray()) {
    if (str(entry, "action") == action && (kind.empty() || str(entry, "kind") == kind)) return &entry;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a login, an export, an assignment, a search and a CLI enrolment are in the audit trail, and no address or note",
          "[e2e][api][audit]") {
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device officer(server, "tablet-ann", "officer.ann", "officer");  // enrolled with the CLI
  officer.write("household", 1, household(kAddress, "Elstree", false, kPostcode));
  officer.write("visit", 2, visit(1, "2026-11-20T10:00:00.000Z", "completed", R"(,"notes":)" + json_string(kNote)));

  REQUIRE(log_in_reply(server, "cat", "not the password at all").status == 401);
  const auto session = log_in(server);
  const auto exported = call(server, "GET", "/api/v1/exports/visits.csv?from=2026-11-01", with_cookie(session, ""));
  REQUIRE(exported.status == 200);
  REQUIRE(exported.body.find(kNote) != std::string::npos);
  const auto assigned = call(server, "POST", "/api/v1/households/" + uuid(1) + "/assignment", with_cookie(session),
                             R"({"assigned_to":"officer.bea"})");
  REQUIRE(assigned.status == 200);
  const auto searched = call(server, "POST", "/api/v1/households/search", with_cookie(session), R"({"q":"Quillmoor"})");
  REQUIRE(searched.status == 200);
  REQUIRE(parse(searched.body)["total"].GetInt() == 1);

  const auto list = audit_list(server, session);
  const auto* login = find_entry(list, "login");
  REQUIRE(login);
  CHECK(str(*login, "actor") == "cat");
  CHECK(str(*login, "address") == "127.0.0.1");
  CHECK(str(*login, "outcome") == "ok");
  const auto* failed = find_entry(list, "login");
  for (const auto& entry : list["entries"].GetArray()) {
    if (str(entry, "action") == "login" && str(entry, "outcome") != "ok") failed = &entry;
  }
  CHECK(str(*failed, "outcome") == "wrong_password");
  const auto* export_entry = find_entry(list, "export", "visits");
  REQUIRE(export_entry);
  CHECK(str(*export_entry, "actor") == "cat");
  CHECK(str(*export_entry, "detail") == "from=2026-11-01 to= rows=1");
  const auto* assign = find_entry(list, "assign");
  REQUIRE(assign);
  CHECK(str(*assign, "household") == uuid(1));
  CHECK(str(*assign, "detail") == "assigned_to=officer.bea");
  const auto* search = find_entry(list, "households_search");
  REQUIRE(search);
  CHECK(str(*search, "detail") == "ward= rows=1 total=1");
  const auto* enroll = find_entry(list, "enroll");
  REQUIRE(enroll);
  CHECK(str(*enroll, "actor").rfind("cli:", 0) == 0);
  CHECK(str(*enroll, "via") == "cli");
  CHECK(str(*enroll, "device") == "tablet-ann");
  CHECK(str(*enroll, "address") == "local");
  CHECK(find_entry(list, "account_add"));

  SECTION("the list filters, and the trail is for dashboard logins only") {
    const auto by_action = audit_list(server, session, "?action=assign");
    CHECK(by_action["entries"].Size() == 1);
    const auto by_person = audit_list(server, session, "?person=officer.ann&limit=5");
    CHECK(find_entry(by_person, "enroll"));
    CHECK(find_entry(by_person, "login") == nullptr);
    const auto token = server.enroll("tablet-coord", "coord.dee", "coordinator");
    CHECK(call(server, "GET", "/api/v1/audit", bearer(token)).status == 403);
    CHECK(call(server, "GET", "/api/v1/audit.csv", bearer(token)).status == 403);
    CHECK(call(server, "GET", "/api/v1/audit?from=yesterday", with_cookie(session, "")).status == 400);
    CHECK(call(server, "GET", "/api/v1/audit?before=-1", with_cookie(session, "")).status == 400);
  }
  SECTION("the CSV export of the trail is itself audited") {
    const auto csv = call(server, "GET", "/api/v1/audit.csv?action=assign", with_cookie(session, ""));
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("assigned_to=officer.bea") != std::string::npos);
    const auto after = audit_list(server, session, "?action=export");
    const auto* audit_export = find_entry(after, "export", "audit");
    REQUIRE(audit_export);
    CHECK(str(*audit_export, "detail") == "person= action=assign from= to= rows=1");
  }
  SECTION("the CLI verifies the chain and holds no address, postcode, note or search text in it") {
    const auto verified = audit_command(server, "verify");
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 0);
    CHECK(verified.out.find("Head: entry ") != std::string::npos);
    const auto dumped = audit_command(server, "list", {"--csv"});
    REQUIRE(dumped.exit_code == 0);
    CHECK(dumped.out.find("households_search") != std::string::npos);
    for (const auto& secret : {kAddress, kPostcode, kNote, std::string("Quillmoor"), std::string("not the password")}) {
      INFO(secret);
      CHECK(dumped.out.find(secret) == std::string::npos);
    }
    const auto listed = audit_command(server, "list", {"--action", "audit_verify"});
    CHECK(listed.out.find("audit_verify ok") != std::string::npos);
  }
}
