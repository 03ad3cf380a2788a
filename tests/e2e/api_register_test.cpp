// docs/api.md "Register" over real HTTP against the real sync-server: the household list and
// its search, the CSV import (all or nothing), and assignment, which syncs to the officer.
#include "api_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace api_test;

// Households 1-5 in four wards (6 is deleted), in the register's order: ward, then address.
void seed(Device& cat) {
  cat.write("household", 1, household("12 Shenley Road", "Elstree", true, "WD6 1WA"));
  cat.write("household", 2, household("3 Allum Lane", "Elstree", false, "WD6 3PJ"));
  cat.write("household", 3, household("44 Furzehill Road", "Borehamwood Hillside", true, "WD6 2DF"));
  cat.write("household", 4, household("9 Watling Street", "Shenley", true, "WD7 9AA"));
  cat.write("household", 5, R"({"address":"7 Harbour Close","postcode":"EN6 1AA","ward":"Potters Bar Oakmere",)"
                            R"("target":true,"vulnerability":["elderly","lives_alone"]})");
  cat.write("household", 6, household("6 Gone Road", "Elstree", true));
  cat.write("household", 6, "", "delete");
}

struct Listing {
  std::int64_t total = -1;
  std::vector<std::string> ids;  // in the order listed
};

Listing list(const ServerProcess& server, const std::string& token, const std::string& query = "") {
  const auto reply = get_json(server, "/api/v1/households" + query, token);
  Listing out{num(reply, "total").value_or(-1), {}};
  for (const auto& item : reply["households"].GetArray()) out.ids.push_back(str(item, "id"));
  return out;
}

// POST /api/v1/households/search with `body` (JSON) by bearer token, requiring 200.
Listing search(const ServerProcess& server, const std::string& token, const std::string& body) {
  const auto reply = call(server, "POST", "/api/v1/households/search", bearer(token), body);
  INFO("search " << body << " -> " << reply.status << " " << reply.body);
  REQUIRE(reply.status == 200);
  const auto parsed = parse(reply.body);
  Listing out{num(parsed, "total").value_or(-1), {}};
  for (const auto& item : parsed["households"].GetArray()) out.ids.push_back(str(item, "id"));
  return out;
}

// Household `id` as the unfiltered list shows it, copied; fails the test when it is not listed.
rapidjson::Document listed(const ServerProcess& server, const std::string& token, const std::string& id) {
  const auto reply = get_json(server, "/api/v1/households?limit=1000", token);
  rapidjson::Document out;
  for (const auto& item : reply["households"].GetArray()) {
    if (str(item, "id") == id) out.CopyFrom(item, out.GetAllocator());
  }
  REQUIRE(out.IsObject());
  return out;
}

HttpReply import(const ServerProcess& server, const std::string& token, const std::string& csv) {
  return call(server, "POST", "/api/v1/households/import", bearer(token), csv, "text/csv");
}

const std::string kHeader = "id,address,postcode,ward,target,assigned_to\r\n";

// Sends an import's header announcing `length` bytes of body, and only the CSV header line of
// it; returns what the server answers within 5 seconds (a bounded server answers at once).
std::string announce_upload(unsigned short port, const std::string& token, std::size_t length) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "POST /api/v1/households/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                token + "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(length) +
                                "\r\n\r\n" + kHeader;
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[4096];
    for (ssize_t n; reply.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace

TEST_CASE("the household list filters by ward, searches address and postcode, and pages with a total", "[e2e][api]") {
  // docs/api.md: coordinators find a household by a piece of its address or its postcode as
  // people type it (any case, with or without the space), among thousands, a page at a time.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  const std::vector<std::string> all = {uuid(3), uuid(1), uuid(2), uuid(5), uuid(4)};

  const auto everything = list(server, cat.token);
  CHECK(everything.total == 5);
  CHECK(everything.ids == all);
  CHECK(list(server, cat.token, "?ward=Elstree").ids == std::vector<std::string>{uuid(1), uuid(2)});
  CHECK(list(server, cat.token, "?ward=Elstree").total == 2);
  CHECK(search(server, cat.token, R"({"q":"SHENLEY"})").ids == std::vector<std::string>{uuid(1)});  // address, not ward
  CHECK(search(server, cat.token, R"({"q":"allum lane"})").ids == std::vector<std::string>{uuid(2)});
  CHECK(search(server, cat.token, R"({"q":"wd63pj"})").ids == std::vector<std::string>{uuid(2)});
  CHECK(search(server, cat.token, R"({"q":"  WD6 3PJ\n"})").ids == std::vector<std::string>{uuid(2)});  // trimmed
  CHECK(search(server, cat.token, R"({"q":"wd6"})").total == 3);
  CHECK(search(server, cat.token, R"({"q":"road","ward":"Elstree"})").ids == std::vector<std::string>{uuid(1)});
  CHECK(search(server, cat.token, R"({"q":"road","ward":""})").total == 2);  // "" is every ward, as ?ward=
  CHECK(search(server, cat.token, R"({"q":"%"})").total == 0);  // '%' is a character to find, not a wildcard
  CHECK(search(server, cat.token, R"({"q":"gone"})").total == 0);  // deleted
  const auto second_road = search(server, cat.token, R"({"q":"road","limit":1,"offset":1})");
  CHECK(second_road.total == 2);
  CHECK(second_road.ids == std::vector<std::string>{uuid(1)});  // Borehamwood Hillside's road comes first
  CHECK(search(server, cat.token, R"({"q":"road","limit":0,"offset":-5})").ids.size() == 1);  // clamped as the GET's

  const auto first = list(server, cat.token, "?limit=2&offset=0");
  CHECK(first.total == 5);
  CHECK(first.ids == std::vector<std::string>{all[0], all[1]});
  const auto second = list(server, cat.token, "?limit=2&offset=2");
  CHECK(second.total == 5);
  CHECK(second.ids == std::vector<std::string>{all[2], all[3]});
  const auto last = list(server, cat.token, "?limit=2&offset=4");
  CHECK(last.total == 5);
  CHECK(last.ids == std::vector<std::string>{all[4]});
  CHECK(list(server, cat.token, "?limit=2&offset=10").ids.empty());

  const auto harbour = listed(server, cat.token, uuid(5));
  CHECK(str(harbour, "address") == "7 Harbour Close");
  CHECK(str(harbour, "postcode") == "EN6 1AA");
  CHECK(str(harbour, "ward") == "Potters Bar Oakmere");
  CHECK(flag(harbour, "target") == true);
  CHECK(str(harbour, "assigned_to") == "<null>");
  REQUIRE(harbour["vulnerability"].IsArray());
  REQUIRE(harbour["vulnerability"].Size() == 2);
  CHECK(std::string(harbour["vulnerability"][0].GetString()) == "elderly");
  CHECK(std::string(harbour["vulnerability"][1].GetString()) == "lives_alone");
}

TEST_CASE("a household search goes in a POST body: never in a URL, the audit trail, the log or an error",
          "[e2e][api][audit]") {
  // docs/data-protection.md: search text is a piece of an address, so it goes in the body of a
  // POST (which proxies and access logs do not keep) with the CSRF token every dashboard POST
  // needs; a search in the URL is refused, and no refusal or audit entry repeats the text.
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  cat.write("household", 7, household("4 Tansy Wharf", "Shenley", true, "WD7 8QT"));  // fictional
  const auto session = log_in(server);
  const auto search_by = [&](const Headers& headers, const std::string& body) {
    return call(server, "POST", "/api/v1/households/search", headers, body);
  };

  const auto by_address = search_by(with_cookie(session), R"({"q":"tansy"})");
  INFO(by_address.body);
  REQUIRE(by_address.status == 200);
  CHECK(num(parse(by_address.body), "total") == 1);
  const auto by_postcode = search_by(with_cookie(session), R"({"q":"wd78qt","ward":"Shenley","limit":10,"offset":0})");
  REQUIRE(by_postcode.status == 200);
  CHECK(str(parse(by_postcode.body)["households"][0], "id") == uuid(7));

  SECTION("without the CSRF token or from another site, a cookie search is refused") {
    const auto no_token = search_by(with_cookie(session, ""), R"({"q":"tansy"})");
    CHECK(no_token.status == 403);
    CHECK(str(parse(no_token.body), "error") == "csrf");
    auto other_site = with_cookie(session);
    other_site.emplace_back("Origin", "http://evil.example");
    CHECK(search_by(other_site, R"({"q":"tansy"})").status == 403);
    CHECK(search_by(bearer(cat.token), R"({"q":"tansy"})").status == 200);  // a token needs no CSRF token
    const auto officer = server.enroll("tab-ann-1", "officer.ann", "officer");
    CHECK(search_by(bearer(officer), R"({"q":"tansy"})").status == 403);
    CHECK(search_by({}, R"({"q":"tansy"})").status == 401);
  }
  SECTION("a search in the URL is refused without repeating its text") {
    for (const auto* target : {"/api/v1/households?q=Tansy", "/api/v1/households?ward=Shenley&q=Tansy", "/api/v1/households?q="}) {
      const auto refused = call(server, "GET", target, with_cookie(session, ""));
      INFO(target << " -> " << refused.body);
      CHECK(refused.status == 400);
      CHECK(str(parse(refused.body), "error").find("POST /api/v1/households/search") != std::string::npos);
      CHECK(refused.body.find("Tansy") == std::string::npos);
    }
    CHECK(call(server, "GET", "/api/v1/households?ward=Shenley", with_cookie(session, "")).status == 200);
    CHECK(call(server, "GET", "/api/v1/households/search", bearer(cat.token)).status == 405);
  }
  SECTION("a bad body is refused naming the field, never with the text sent") {
    const std::string long_text(201, 'T');
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"Tansy Wharf", "JSON object"},
        {R"(["Tansy Wharf"])", "JSON object"},
        {R"({"q":"Tansy","q":"Wharf"})", "JSON object"},
        {"{}", "q must"},
        {R"({"q":"   "})", "q must"},
        {R"({"q":["Tansy"]})", "q must"},
        {R"({"q":")" + long_text + R"("})", "q must"},
        {R"({"q":"Tansy","ward":"Tansy Wharf"})", "ward must"},
        {R"({"q":"Tansy","ward":7})", "ward must"},
        {R"({"q":"Tansy","limit":"10"})", "limit must"},
        {R"({"q":"Tansy","limit":2.5})", "limit must"},
        {R"({"q":"Tansy","offset":true})", "offset must"},
    };
    for (const auto& [body, message] : bad) {
      const auto refused = search_by(with_cookie(session), body);
      INFO(body << " -> " << refused.status << " " << refused.body);
      CHECK(refused.status == 400);
      CHECK(str(parse(refused.body), "error").find(message) != std::string::npos);
      CHECK(refused.body.find("Tansy") == std::string::npos);
      CHECK(refused.body.find("TTTT") == std::string::npos);
    }
    // 200 code points pass however many bytes they take (é is two).
    std::string two_hundred;
    for (int i = 0; i < 200; ++i) two_hundred += "\xC3\xA9";
    CHECK(search_by(with_cookie(session), R"({"q":")" + two_hundred + R"("})").status == 200);
    // The body is a line of text, not a document: over 4 KiB is refused before it is read.
    const auto huge = search_by(with_cookie(session), R"({"q":"Tansy","pad":")" + std::string(5000, 'x') + R"("})");
    CHECK(huge.status == 413);
    CHECK(huge.body.find("Tansy") == std::string::npos);
  }
  SECTION("the search is audited with its ward and counts, and the text is nowhere kept") {
    const auto csv = call(server, "GET", "/api/v1/audit.csv?action=households_search", with_cookie(session, ""));
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("ward= rows=1 total=1") != std::string::npos);
    CHECK(csv.body.find("ward=Shenley rows=1 total=1") != std::string::npos);
    const auto dumped = server.admin({"audit", "list", "--csv"});
    REQUIRE(dumped.exit_code == 0);
    CHECK(dumped.out.find("households_search") != std::string::npos);
    for (const auto* text : {"tansy", "Tansy", "wd78qt", "WD7 8QT"}) {
      INFO(text);
      CHECK(csv.body.find(text) == std::string::npos);
      CHECK(dumped.out.find(text) == std::string::npos);
      CHECK(server.log().find(text) == std::string::npos);
    }
  }
}

// Bug (fixed): the search lower-cased with SQLite's lower(), which folds ASCII only, so "CAFÉ" did not
// find "Café Row" although docs/api.md says q matches case-insensitively.
TEST_CASE("the household search folds the case of non-ASCII letters too", "[e2e][api][regression]") {
  // docs/api.md: q is case-insensitive; addresses such as "Café Row" are typed in any case.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Caf\xC3\xA9 Row", "Elstree", true));
  CHECK(search(server, cat.token, "{\"q\":\"caf\xC3\xA9\"}").total == 1);
  CHECK(search(server, cat.token, R"({"q":"CAF\u00c9"})").total == 1);
}

TEST_CASE("a CSV import through the API imports every row, or nothing with the bad line named", "[e2e][api]") {
  // docs/api.md: the register is uploaded from the dashboard; one mistake in it must not leave
  // it half loaded, and the coordinator must learn which line to fix.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);

  const auto good = import(server, cat.token,
                           kHeader + uuid(11) + ",\"1 Mill Lane, Flat \"\"B\"\"\",wd6 4aa,Elstree,1,officer.ann\r\n" +
                               ",2 Mill Lane,WD64AB,Shenley,0,\r\n" + ",3 Mill Lane,WD6 4AE,Elstree,true,\r\n");
  INFO(good.body);
  REQUIRE(good.status == 200);
  CHECK(num(parse(good.body), "imported") == 3);
  CHECK(list(server, cat.token).total == 8);
  const auto mill = listed(server, cat.token, uuid(11));
  CHECK(str(mill, "address") == "1 Mill Lane, Flat \"B\"");
  CHECK(str(mill, "postcode") == "WD6 4AA");
  CHECK(str(mill, "assigned_to") == "officer.ann");
  CHECK(search(server, cat.token, R"({"q":"mill"})").total == 3);

  const auto before = list(server, cat.token, "?limit=1000");
  // Line 3 holds a quoted address that runs onto line 4, so the bad postcode is on line 5.
  const auto bad = import(server, cat.token,
                          kHeader + uuid(11) + ",1 Renamed Lane,WD6 4AA,Elstree,1,\r\n" + ",\"5 Mill Lane\r\nRear\"," +
                              "WD6 4AD,Elstree,1,\r\n" + ",6 Mill Lane,NOT A POSTCODE,Elstree,1,\r\n" +
                              ",7 Mill Lane,WD6 4AF,Elstree,1,\r\n");
  INFO(bad.body);
  CHECK(bad.status == 400);
  const auto report = parse(bad.body);
  CHECK(str(report, "error") == "nothing was imported");
  REQUIRE(report.HasMember("problems"));
  REQUIRE(report["problems"].IsArray());
  REQUIRE(report["problems"].Size() == 1);
  CHECK(num(report["problems"][0], "line") == 5);
  CHECK(str(report["problems"][0], "message").find("postcode") != std::string::npos);

  const auto after = list(server, cat.token, "?limit=1000");
  CHECK(after.total == before.total);
  CHECK(after.ids == before.ids);
  CHECK(str(listed(server, cat.token, uuid(11)), "address") == "1 Mill Lane, Flat \"B\"");  // line 2 not applied

  const auto headless = import(server, cat.token, ",8 Mill Lane,WD6 4AG,Elstree,1,\r\n");
  CHECK(headless.status == 400);
  CHECK(list(server, cat.token).total == 8);
}

TEST_CASE("assigning a household syncs it to the officer's tablet", "[e2e][api]") {
  // docs/api.md: an assignment is a coordinator's upsert, so the officer's next pull brings
  // the household, with nothing else about it changed.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  CHECK(ann.pulled().count(uuid(5)) == 0);

  const auto assigned = call(server, "POST", "/api/v1/households/" + uuid(5) + "/assignment", bearer(cat.token),
                             R"({"assigned_to":"officer.ann"})");
  INFO(assigned.body);
  REQUIRE(assigned.status == 200);
  CHECK(str(parse(assigned.body), "id") == uuid(5));
  CHECK(str(parse(assigned.body), "assigned_to") == "officer.ann");
  CHECK(ann.pulled() == std::set<std::string>{uuid(5)});
  const auto harbour = listed(server, cat.token, uuid(5));
  CHECK(str(harbour, "assigned_to") == "officer.ann");
  CHECK(str(harbour, "address") == "7 Harbour Close");
  CHECK(flag(harbour, "target") == true);
  CHECK(harbour["vulnerability"].Size() == 2);

  // A household last written with a device clock ahead of the server's (but within the hour
  // allowed) must still take the assignment: the assignment is the newer version.
  cat.write("household", 4, household("9 Watling Street", "Shenley", true, "WD7 9AA"), "upsert",
            contract_test::hlc(std::chrono::minutes(30)));
  const auto ahead = call(server, "POST", "/api/v1/households/" + uuid(4) + "/assignment", bearer(cat.token),
                          R"({"assigned_to":"officer.ann"})");
  REQUIRE(ahead.status == 200);
  CHECK(str(listed(server, cat.token, uuid(4)), "assigned_to") == "officer.ann");
  CHECK(ann.pulled() == std::set<std::string>{uuid(4), uuid(5)});

  const auto cleared = call(server, "POST", "/api/v1/households/" + uuid(5) + "/assignment", bearer(cat.token),
                            R"({"assigned_to":null})");
  REQUIRE(cleared.status == 200);
  CHECK(parse(cleared.body)["assigned_to"].IsNull());
  CHECK(str(listed(server, cat.token, uuid(5)), "assigned_to") == "<null>");
}

TEST_CASE("assignment of an unknown household is 404, of a malformed user id 400, and changes nothing", "[e2e][api]") {
  // docs/api.md: a typo in an id or a name must be reported, not stored and synced.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);
  const auto assign = [&](const std::string& id, const std::string& body) {
    return call(server, "POST", "/api/v1/households/" + id + "/assignment", bearer(cat.token), body).status;
  };
  const std::string to_ann = R"({"assigned_to":"officer.ann"})";
  CHECK(assign(uuid(999), to_ann) == 404);
  CHECK(assign(uuid(6), to_ann) == 404);  // deleted
  CHECK(assign("not-a-uuid", to_ann) == 404);
  CHECK(assign(uuid(1), R"({"assigned_to":"officer ann"})") == 400);
  CHECK(assign(uuid(1), R"({"assigned_to":""})") == 400);
  CHECK(assign(uuid(1), R"({"assigned_to":")" + std::string(65, 'a') + R"("})") == 400);
  CHECK(assign(uuid(1), R"({"assigned_to":42})") == 400);
  CHECK(assign(uuid(1), "officer.ann") == 400);
  CHECK(str(listed(server, cat.token, uuid(1)), "assigned_to") == "<null>");
  CHECK(list(server, cat.token).total == 5);
}

// Bug (fixed; sync-server/src/net/http_session.cpp, on_header): the import's 10 MiB body limit was set
// only after async_read_header, but Beast (1.81) already compared Content-Length with its
// default 1 MiB request limit when the header finished, so every upload over 1 MiB gets 413.
TEST_CASE("an import of more than 1 MiB but at most 10 MiB is accepted", "[e2e][api][regression]") {
  // docs/api.md: the CSV may be up to 10 MiB; a register of a few thousand households with
  // long addresses passes 1 MiB, the HTTP library's default body limit.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  std::string csv = kHeader;
  int rows = 0;
  while (csv.size() <= 1536 * 1024) {
    csv += "," + std::to_string(++rows) + " Long Lane " + std::string(170, 'a') + ",WD6 4AG,Elstree,0,\r\n";
  }
  const auto reply = call(server, "POST", "/api/v1/households/import", bearer(cat.token), csv, "text/csv");
  INFO(csv.size() << " bytes, " << rows << " rows -> " << reply.status << " " << reply.body.substr(0, 300));
  CHECK(reply.status == 200);
  CHECK(num(parse(reply.body), "imported") == rows);
  CHECK(list(server, cat.token).total == rows);
}

TEST_CASE("an import announcing more than 10 MiB is refused with 413 before its body is read", "[e2e][api]") {
  // docs/api.md: the import is bounded, so an upload cannot fill the server's memory.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  const auto reply = announce_upload(server.port(), cat.token, 10 * 1024 * 1024 + 1);
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(list(server, cat.token).total == 0);
}
