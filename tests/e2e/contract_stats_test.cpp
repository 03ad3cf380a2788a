// protocol.md §7 (coordinator HTTP API) over HTTP, against the real sync-server: who may read
// the statistics, the local-date range, bad dates, and figures that match what was pushed.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using test_support::http_get;
using namespace contract_test;

std::string household(const std::string& ward, bool target) {
  return R"({"address":"1 Example Road","postcode":"WD6 1WA","ward":")" + ward + R"(","target":)" +
         (target ? "true" : "false") + "}";
}
std::string visit(int household_n, const std::string& visited_at, const std::string& status,
                  const std::string& extra = "") {
  return R"({"household_id":")" + uuid(household_n) + R"(","visited_at":")" + visited_at + R"(","status":")" +
         status + '"' + extra + "}";
}
std::string commute(const std::string& station, const std::string& started_at, int cards) {
  return R"({"station":")" + station + R"(","started_at":")" + started_at + R"(","cards_distributed":)" +
         std::to_string(cards) + "}";
}

// A coordinator's session; write() pushes one change with the next seq and requires it applied.
struct Coordinator {
  std::string token;
  std::unique_ptr<WsTestClient> client;
  std::int64_t seq = 0;

  Coordinator(const ServerProcess& server, const std::string& device, const std::string& user)
      : token(server.enroll(device, user, "coordinator")), client(join(server, device, token)) {}

  void write(const std::string& entity, int n, const std::string& data, const std::string& hlc_text = next_hlc(),
             const std::string& op = "upsert") {
    ++seq;
    const auto ack = parse(client->request(
        R"({"type":"push","changes":[{"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":")" + op +
        R"(","id":")" + uuid(n) + R"(","hlc":")" + hlc_text + '"' + (data.empty() ? "" : R"(,"data":)" + data) + "}]}"));
    REQUIRE(at(ack, {"acked_seq"}) == seq);
    REQUIRE(ack["rejected"].Empty());
  }
};

rapidjson::Document stats(const ServerProcess& server, const std::string& token, const std::string& query = "") {
  const auto reply = http_get(server.port(), "/api/v1/stats" + query, token);
  REQUIRE(reply.status == 200);
  return parse(reply.body);
}

}  // namespace

TEST_CASE("stats need a coordinator's token, healthz needs none", "[e2e][contract][stats]") {
  // protocol.md §7: statistics are for coordinators only; health checks are for anyone.
  ServerProcess server;
  server.start();
  const auto coordinator = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  const auto officer = server.enroll("tab-ann-1", "officer.ann", "officer");
  const auto pcso = server.enroll("tab-pat-1", "pcso.pat", "pcso");
  const auto former = server.enroll("tab-old-1", "coord.old", "coordinator");
  REQUIRE(server.admin({"revoke", "--device", "tab-old-1"}).exit_code == 0);

  CHECK(http_get(server.port(), "/api/v1/stats").status == 401);
  CHECK(http_get(server.port(), "/api/v1/stats", "f3a9c1d2e4b5a6978877665544332211").status == 401);
  CHECK(http_get(server.port(), "/api/v1/stats", former).status == 401);
  CHECK(http_get(server.port(), "/api/v1/stats", officer).status == 403);
  CHECK(http_get(server.port(), "/api/v1/stats", pcso).status == 403);
  const auto allowed = http_get(server.port(), "/api/v1/stats", coordinator);
  CHECK(allowed.status == 200);
  const auto empty = parse(allowed.body);
  CHECK(at(empty, {"visits", "total"}) == 0);
  REQUIRE(empty["households"]["coverage"].IsNumber());
  CHECK(empty["households"]["coverage"].GetDouble() == 0.0);  // no target households: 0, not NaN
  CHECK(http_get(server.port(), "/healthz").status == 200);
}

TEST_CASE("from and to select visits and sessions by their local date in Europe/London", "[e2e][contract][stats]") {
  // protocol.md §7: a visit just after midnight BST belongs to the next day in the coordinator's report.
  ServerProcess server;
  server.start();
  Coordinator cat(server, "tab-cat-1", "coord.cat");
  cat.write("household", 1, household("Elstree", true));
  cat.write("visit", 11, visit(1, "2026-06-30T23:30:00Z", "completed"));  // 2026-07-01 00:30 BST
  cat.write("visit", 12, visit(1, "2026-06-30T22:30:00Z", "declined"));   // 2026-06-30 23:30 BST
  cat.write("visit", 13, visit(1, "2026-12-31T23:30:00Z", "no_answer"));  // GMT: still 2026-12-31
  cat.write("commute_session", 21, commute("Radlett", "2026-06-30T23:30:00Z", 7));

  const auto july_first = stats(server, cat.token, "?from=2026-07-01&to=2026-07-01");
  CHECK(str(july_first, "from") == "2026-07-01");
  CHECK(str(july_first, "to") == "2026-07-01");
  CHECK(at(july_first, {"visits", "total"}) == 1);
  CHECK(at(july_first, {"visits", "by_status", "completed"}) == 1);
  CHECK(at(july_first, {"commute_aware", "sessions"}) == 1);
  CHECK(at(july_first, {"households", "visited"}) == 1);

  const auto june_thirtieth = stats(server, cat.token, "?from=2026-06-30&to=2026-06-30");
  CHECK(at(june_thirtieth, {"visits", "total"}) == 1);
  CHECK(at(june_thirtieth, {"visits", "by_status", "declined"}) == 1);
  CHECK(at(june_thirtieth, {"commute_aware", "sessions"}) == 0);
  CHECK(at(june_thirtieth, {"households", "visited"}) == 0);
  CHECK(at(june_thirtieth, {"households", "target"}) == 1);  // current, whatever the range

  CHECK(at(stats(server, cat.token, "?from=2026-12-31&to=2026-12-31"), {"visits", "by_status", "no_answer"}) == 1);
  CHECK(at(stats(server, cat.token, "?from=2027-01-01"), {"visits", "total"}) == 0);
  CHECK(at(stats(server, cat.token, "?to=2026-06-30"), {"visits", "total"}) == 1);
  const auto open_ended = stats(server, cat.token, "?from=2026-07-01");
  CHECK(at(open_ended, {"visits", "total"}) == 2);
  CHECK(str(open_ended, "to") == "<null>");
  const auto all_time = stats(server, cat.token);
  CHECK(at(all_time, {"visits", "total"}) == 3);
  CHECK(str(all_time, "from") == "<null>");
  CHECK(str(all_time, "to") == "<null>");
}

TEST_CASE("a malformed date gets 400", "[e2e][contract][stats]") {
  // protocol.md §7: from and to are YYYY-MM-DD; anything else must not silently mean all time.
  ServerProcess server;
  server.start();
  const auto coordinator = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  for (const char* query : {"?from=2026-13-01", "?from=2026-02-30", "?to=20260701", "?from=yesterday",
                            "?from=2026-7-1", "?to=2026-07-01T00:00:00Z", "?from="}) {
    INFO(query);
    CHECK(http_get(server.port(), std::string("/api/v1/stats") + query, coordinator).status == 400);
  }
  CHECK(http_get(server.port(), "/api/v1/stats?from=2026-02-28&to=2028-02-29", coordinator).status == 200);
}

TEST_CASE("the figures match what was pushed: winners only, deletes and losers left out", "[e2e][contract][stats]") {
  // protocol.md §7: the coordinator's report must count exactly the records that devices converge on.
  ServerProcess server;
  server.start();
  Coordinator cat(server, "tab-cat-1", "coord.cat");
  Coordinator dan(server, "tab-dan-1", "coord.dan");
  cat.write("household", 1, household("Elstree", true));
  cat.write("household", 2, household("Bushey North", true));
  cat.write("household", 3, household("Shenley", false));
  cat.write("household", 4, household("Elstree", true));
  cat.write("household", 5, household("Potters Bar Oakmere", true));
  cat.write("household", 4, "", next_hlc(), "delete");  // 3 target households remain: 1, 2 and 5

  const std::string day = "2026-11-20T10:00:00Z";
  cat.write("visit", 11, visit(1, day, "completed",
      R"(,"crime_prevention_advice":true,"fire_safety_check":true,"smoke_detectors_fitted":2,"follow_up_required":true)"));
  cat.write("visit", 12, visit(1, day, "completed", R"(,"fire_safety_check":true,"smoke_detectors_fitted":3)"));
  cat.write("visit", 13, visit(2, day, "no_answer"));
  cat.write("visit", 14, visit(3, day, "completed",
      R"(,"healthy_lifestyle_advice":true,"community_involvement_info":true,"first_aid_training":true,"smoke_detectors_fitted":1)"));
  cat.write("visit", 15, visit(2, day, "declined"));
  cat.write("visit", 15, "", next_hlc(), "delete");
  const auto older = next_hlc(-1min);
  cat.write("visit", 16, visit(3, day, "rescheduled"));
  dan.write("visit", 16, visit(3, day, "completed", R"(,"smoke_detectors_fitted":9)"), older);  // loses
  cat.write("household", 2, household("Aldenham East", true));  // its visit 13 moves ward with it

  cat.write("commute_session", 21, commute("Radlett", "2026-11-20T07:00:00Z", 1));
  cat.write("commute_session", 22, commute("Elstree & Borehamwood", "2026-11-21T07:00:00Z", 40));
  cat.write("commute_session", 23, commute("Potters Bar", "2026-11-21T07:00:00Z", 300));
  cat.write("commute_session", 23, "", next_hlc(), "delete");

  const auto report = stats(server, cat.token);
  CHECK(at(report, {"visits", "total"}) == 5);
  CHECK(at(report, {"visits", "by_status", "completed"}) == 3);
  CHECK(at(report, {"visits", "by_status", "no_answer"}) == 1);
  CHECK(at(report, {"visits", "by_status", "declined"}) == 0);
  CHECK(at(report, {"visits", "by_status", "rescheduled"}) == 1);
  CHECK(at(report, {"visits", "by_ward", "Elstree"}) == 2);
  CHECK(at(report, {"visits", "by_ward", "Shenley"}) == 2);
  CHECK(at(report, {"visits", "by_ward", "Aldenham East"}) == 1);
  CHECK(at(report, {"visits", "by_ward", "Bushey North"}) <= 0);  // 0 or not listed
  CHECK(at(report, {"outcomes", "crime_prevention_advice"}) == 1);
  CHECK(at(report, {"outcomes", "fire_safety_check"}) == 2);
  CHECK(at(report, {"outcomes", "smoke_detectors_fitted"}) == 6);
  CHECK(at(report, {"outcomes", "healthy_lifestyle_advice"}) == 1);
  CHECK(at(report, {"outcomes", "community_involvement_info"}) == 1);
  CHECK(at(report, {"outcomes", "first_aid_training"}) == 1);
  CHECK(at(report, {"outcomes", "follow_up_required"}) == 1);
  CHECK(at(report, {"households", "target"}) == 3);
  CHECK(at(report, {"households", "visited"}) == 1);
  REQUIRE(report["households"]["coverage"].IsNumber());
  CHECK(std::abs(report["households"]["coverage"].GetDouble() - 1.0 / 3.0) < 1e-12);  // not rounded
  CHECK(at(report, {"commute_aware", "sessions"}) == 2);
  CHECK(at(report, {"commute_aware", "cards_distributed"}) == 41);
  CHECK(at(report, {"commute_aware", "by_station", "Radlett"}) == 1);  // one session of one card
  CHECK(at(report, {"commute_aware", "by_station", "Potters Bar"}) <= 0);
  // protocol.md §7 counts cards in by_station; this check accepts either reading.
  const auto elstree = at(report, {"commute_aware", "by_station", "Elstree & Borehamwood"});
  CHECK((elstree == 1 || elstree == 40));

  cat.write("household", 5, household("Potters Bar Oakmere", false));  // off the target list now
  const auto fewer = stats(server, cat.token);
  CHECK(at(fewer, {"households", "target"}) == 2);
  CHECK(fewer["households"]["coverage"].GetDouble() == 0.5);

  const auto later = stats(server, cat.token, "?from=2026-11-21");  // only the second session's day
  CHECK(at(later, {"visits", "total"}) == 0);
  CHECK(at(later, {"households", "visited"}) == 0);
  REQUIRE(later["households"]["coverage"].IsNumber());
  CHECK(later["households"]["coverage"].GetDouble() == 0.0);
  CHECK(at(later, {"commute_aware", "cards_distributed"}) == 40);
}
