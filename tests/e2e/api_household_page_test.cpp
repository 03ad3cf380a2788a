// docs/api.md "Register" over real HTTP against the real sync-server: the household page,
// editing and erasing from it, the list's filters, bulk assignment, officers known before
// they have a tablet, and the register export that imports again.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace api_test;

const std::string kAddress = "23 Wendlebury Court";  // fictional

// Households 1-3: 1 a target in Elstree for Ann, 2 not a target in Elstree for nobody, 3 a
// target in Shenley for nobody.
void seed(Device& cat) {
  cat.write("household", 1, household(kAddress, "Elstree", true, "WD6 1WA", "officer.ann"));
  cat.write("household", 2, household("2 Allum Lane", "Elstree", false, "WD6 3PJ"));
  cat.write("household", 3, household("3 Watling Street", "Shenley", true, "WD7 9AA"));
}

std::vector<std::string> ids_of(const rapidjson::Value& reply) {
  std::vector<std::string> ids;
  for (const auto& item : reply["households"].GetArray()) ids.push_back(str(item, "id"));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The household's data as a pull from "" brings it to `device` ("" when it is not there).
std::string pulled_address(Device& device, int n) {
  const auto page = parse(device.client->request(R"({"type":"pull","cursor":"","limit":1000})"));
  std::string address;
  for (const auto& item : page["changes"].GetArray()) {
    if (str(item, "id") == uuid(n) && item.HasMember("data") && item["data"].IsObject()) address = str(item["data"], "address");
  }
  return address;
}

}  // namespace

TEST_CASE("the household page over HTTP: read (audited), edit with CSRF, erase", "[e2e][api][register]") {
  // docs/api.md GET/PUT/DELETE /api/v1/households/{id}: the id is in the path, the personal
  // data only in bodies; each is audited; the officer's tablet pulls the edit.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  seed(cat);
  ann.write("visit", 11, visit(1, "2026-11-20T10:00:00Z", "completed", R"(,"notes":"knock twice")"));
  const auto session = log_in(server);
  const std::string path = "/api/v1/households/" + uuid(1);

  const auto page = call(server, "GET", path, with_cookie(session, ""));
  INFO(page.body);
  REQUIRE(page.status == 200);
  const auto shown = parse(page.body);
  CHECK(str(shown, "address") == kAddress);
  REQUIRE(shown["visits"].Size() == 1);
  CHECK(str(shown["visits"][0]["visit"], "notes") == "knock twice");
  CHECK(str(shown["visits"][0], "recorded_by") == "officer.ann");
  REQUIRE(shown["assignments"].Size() == 1);
  CHECK(str(shown["assignments"][0], "assigned_to") == "officer.ann");
  const auto views = call(server, "GET", "/api/v1/audit.csv?action=household_view", with_cookie(session, ""));
  CHECK(views.body.find(uuid(1)) != std::string::npos);
  CHECK(views.body.find(kAddress) == std::string::npos);
  CHECK(call(server, "GET", "/api/v1/households/" + uuid(99), with_cookie(session, "")).status == 404);
  CHECK(call(server, "GET", "/api/v1/households/search", bearer(cat.token)).status == 405);  // still the search's path

  const std::string edited = R"({"address":"24 Wendlebury Court","postcode":"wd7 9aa","ward":"Shenley","target":false,)"
                             R"("vulnerability":["elderly","disability"]})";
  SECTION("an edit needs the CSRF token, is validated naming the field, and reaches the tablet") {
    CHECK(call(server, "PUT", path, with_cookie(session, ""), edited).status == 403);
    const auto bad = call(server, "PUT", path, with_cookie(session),
                          R"({"address":"24 Wendlebury Court","postcode":"NOPE","ward":"Shenley"})");
    CHECK(bad.status == 400);
    CHECK(str(parse(bad.body), "field") == "postcode");
    CHECK(bad.body.find("Wendlebury") == std::string::npos);
    const auto no_ward = call(server, "PUT", path, with_cookie(session), R"({"address":"24 Wendlebury Court","postcode":"WD7 9AA"})");
    CHECK(no_ward.status == 400);
    CHECK(str(parse(no_ward.body), "field") == "ward");
    CHECK(call(server, "PUT", path, with_cookie(session), R"({"address":"x","postcode":"WD7 9AA","ward":"Shenley","vulnerability":["frail"]})").status == 400);
    CHECK(pulled_address(ann, 1) == kAddress);

    const auto saved = call(server, "PUT", path, with_cookie(session), edited);
    INFO(saved.body);
    REQUIRE(saved.status == 200);
    CHECK(str(parse(saved.body), "postcode") == "WD7 9AA");
    CHECK(str(parse(saved.body), "assigned_to") == "officer.ann");
    CHECK(pulled_address(ann, 1) == "24 Wendlebury Court");
    const auto trail = call(server, "GET", "/api/v1/audit.csv?action=household_edit", with_cookie(session, ""));
    CHECK(trail.body.find("fields=address,postcode,ward,target,vulnerability") != std::string::npos);
    CHECK(trail.body.find("Wendlebury") == std::string::npos);
    CHECK(server.log().find("Wendlebury") == std::string::npos);
  }
  SECTION("erasure takes the visits, audits it, and the officer's tablet loses it") {
    CHECK(call(server, "DELETE", path, with_cookie(session, "")).status == 403);
    const auto erased = call(server, "DELETE", path, with_cookie(session));
    INFO(erased.body);
    REQUIRE(erased.status == 200);
    CHECK(num(parse(erased.body), "visits") == 1);
    CHECK(call(server, "GET", path, with_cookie(session, "")).status == 404);
    CHECK(call(server, "DELETE", path, with_cookie(session)).status == 404);
    CHECK(pulled_address(ann, 1).empty());
    const auto trail = call(server, "GET", "/api/v1/audit.csv?action=erase", with_cookie(session, ""));
    CHECK(trail.body.find(uuid(1)) != std::string::npos);
    CHECK(trail.body.find("visits=1") != std::string::npos);
    const auto ack = ann.push("visit", 12, visit(1, "2026-11-21T10:00:00Z", "no_answer"));
    REQUIRE(ack["rejected"].Size() == 1);
    CHECK(str(ack["rejected"][0], "code") == "erased");
  }
}

TEST_CASE("the register filters by target, unassigned, officer and ward, in the query and in a search", "[e2e][api][register]") {
  // docs/api.md: the filters are not personal data, so they may go in the query; a search's
  // text still goes in the body, with the same filters beside it.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  CHECK(ids_of(get_json(server, "/api/v1/households?target=1", cat.token)) == std::vector<std::string>{uuid(1), uuid(3)});
  CHECK(ids_of(get_json(server, "/api/v1/households?target=0", cat.token)) == std::vector<std::string>{uuid(2)});
  CHECK(ids_of(get_json(server, "/api/v1/households?unassigned=1", cat.token)) == std::vector<std::string>{uuid(2), uuid(3)});
  CHECK(ids_of(get_json(server, "/api/v1/households?officer=officer.ann", cat.token)) == std::vector<std::string>{uuid(1)});
  CHECK(ids_of(get_json(server, "/api/v1/households?unassigned=1&target=1&ward=Shenley", cat.token)) ==
        std::vector<std::string>{uuid(3)});
  CHECK(num(get_json(server, "/api/v1/households?unassigned=1&target=1&ward=Elstree", cat.token), "total") == 0);
  CHECK(call(server, "GET", "/api/v1/households?target=yes", bearer(cat.token)).status == 400);
  CHECK(call(server, "GET", "/api/v1/households?officer=not%20an%20id", bearer(cat.token)).status == 400);
  const auto searched = call(server, "POST", "/api/v1/households/search", bearer(cat.token),
                             R"({"q":"lane","target":false,"unassigned":true,"officer":""})");
  REQUIRE(searched.status == 200);
  CHECK(ids_of(parse(searched.body)) == std::vector<std::string>{uuid(2)});
  CHECK(call(server, "POST", "/api/v1/households/search", bearer(cat.token), R"({"q":"lane","target":"yes"})").status == 400);
}

TEST_CASE("bulk assignment to an officer without a tablet: all or nothing, picked up at enrolment", "[e2e][api][register]") {
  // docs/api.md POST /api/v1/households/assignment and "Officers".
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  const auto session = log_in(server);
  const auto named = call(server, "POST", "/api/v1/officers", with_cookie(session), R"({"user_id":"officer.eve"})");
  INFO(named.body);
  REQUIRE(named.status == 200);
  CHECK(named.body.find("\"officer.eve\"") != std::string::npos);
  CHECK(call(server, "POST", "/api/v1/officers", with_cookie(session), R"({"user_id":"officer eve"})").status == 400);
  CHECK(call(server, "POST", "/api/v1/officers", with_cookie(session, ""), R"({"user_id":"officer.fay"})").status == 403);

  const auto refused = call(server, "POST", "/api/v1/households/assignment", with_cookie(session),
                            R"({"ids":[")" + uuid(2) + R"(",")" + uuid(99) + R"("],"assigned_to":"officer.eve"})");
  CHECK(refused.status == 404);
  CHECK(num(get_json(server, "/api/v1/households?officer=officer.eve", cat.token), "total") == 0);
  CHECK(call(server, "POST", "/api/v1/households/assignment", with_cookie(session), R"({"ids":"x","assigned_to":null})").status == 400);

  const auto assigned = call(server, "POST", "/api/v1/households/assignment", with_cookie(session),
                             R"({"ids":[")" + uuid(2) + R"(",")" + uuid(3) + R"("],"assigned_to":"officer.eve"})");
  INFO(assigned.body);
  REQUIRE(assigned.status == 200);
  CHECK(num(parse(assigned.body), "assigned") == 2);
  const auto trail = call(server, "GET", "/api/v1/audit.csv?action=assign", with_cookie(session, ""));
  std::size_t entries = 0;
  for (auto at = trail.body.find("assigned_to=officer.eve"); at != std::string::npos; at = trail.body.find("assigned_to=officer.eve", at + 1)) ++entries;
  CHECK(entries == 2);

  Device eve(server, "tab-eve-1", "officer.eve", "officer");  // enrolled after the assignment
  CHECK(eve.pulled() == std::set<std::string>{uuid(2), uuid(3)});
  const auto officers = get_json(server, "/api/v1/officers", cat.token);
  bool found = false;
  for (const auto& officer : officers["officers"].GetArray()) {
    if (str(officer, "user_id") != "officer.eve") continue;
    found = true;
    CHECK(num(officer, "devices") == 1);
    CHECK(num(officer, "households") == 2);
  }
  CHECK(found);
  CHECK(call(server, "DELETE", "/api/v1/officers/officer.eve", with_cookie(session)).status == 200);
  CHECK(call(server, "DELETE", "/api/v1/officers/officer.eve", with_cookie(session)).status == 404);
}

TEST_CASE("the register export is audited, CSV-injection safe, and imports again", "[e2e][api][register]") {
  // docs/api.md GET /api/v1/exports/households.csv.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  cat.write("household", 4, R"({"address":"@4 Sum Row","postcode":"EN6 1AA","ward":"Potters Bar Oakmere",)"
                            R"("target":true,"vulnerability":["elderly","lives_alone"]})");
  const auto session = log_in(server);
  const auto exported = call(server, "GET", "/api/v1/exports/households.csv", with_cookie(session, ""));
  REQUIRE(exported.status == 200);
  CHECK(exported.body.rfind("id,address,postcode,ward,target,assigned_to,vulnerability\r\n", 0) == 0);
  CHECK(exported.body.find(uuid(4) + ",'@4 Sum Row,EN6 1AA,Potters Bar Oakmere,true,,elderly;lives_alone\r\n") != std::string::npos);
  const auto trail = call(server, "GET", "/api/v1/audit.csv?action=export", with_cookie(session, ""));
  CHECK(trail.body.find("households") != std::string::npos);
  CHECK(trail.body.find("rows=4") != std::string::npos);

  const auto imported = call(server, "POST", "/api/v1/households/import", with_cookie(session), exported.body, "text/csv");
  INFO(imported.body);
  REQUIRE(imported.status == 200);
  CHECK(num(parse(imported.body), "imported") == 4);
  CHECK(call(server, "GET", "/api/v1/exports/households.csv", with_cookie(session, "")).body == exported.body);
  CHECK(parse(imported.body)["near_duplicates"].Empty());  // each row is its own household

  // A row like a household already held is imported, with a warning naming lines and ids only.
  const auto again = call(server, "POST", "/api/v1/households/import", with_cookie(session),
                          "id,address,postcode,ward,target,assigned_to\r\n,3 Watling St,wd7 9aa,Shenley,0,\r\n", "text/csv");
  INFO(again.body);
  REQUIRE(again.status == 200);
  const auto warned = parse(again.body);
  REQUIRE(warned["near_duplicates"].Size() == 1);
  CHECK(num(warned["near_duplicates"][0], "line") == 2);
  CHECK(str(warned["near_duplicates"][0], "message") == "same postcode and house number as household " + uuid(3));
  CHECK(again.body.find("Watling") == std::string::npos);
}
