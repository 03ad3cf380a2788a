// docs/api.md "Overview" and "Annual report" over real HTTP against the real sync-server:
// figures that agree with /api/v1/stats, coverage per ward, weeks that start on Monday in
// Europe/London, the financial year's twelve months, and the version the dashboard polls.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace api_test;

// Households 1-6, visits 101-109, sessions 201-203 (see the comments for their local dates).
void seed(Device& cat) {
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Elm Road", "Elstree", true));
  cat.write("household", 3, household("3 Elm Road", "Elstree", true));
  cat.write("household", 4, household("4 Oak Road", "Shenley", true));
  cat.write("household", 5, household("5 Oak Road", "Shenley", false));
  cat.write("household", 6, household("6 Ash Road", "Bushey North", true));
  cat.write("household", 6, "", "delete");
  cat.write("visit", 101, visit(1, "2026-11-29T12:00:00Z", "completed"));  // Sunday
  cat.write("visit", 102, visit(2, "2026-11-30T09:00:00Z", "no_answer"));  // Monday
  cat.write("visit", 103, visit(4, "2026-11-30T10:00:00Z", "completed"));
  cat.write("visit", 104, visit(5, "2026-11-24T10:00:00Z", "declined"));
  cat.write("visit", 105, visit(1, "2026-10-18T23:30:00Z", "completed"));  // Monday 2026-10-19 00:30 BST
  cat.write("visit", 106, visit(3, "2026-12-02T10:00:00Z", "rescheduled"));
  cat.write("visit", 107, visit(2, "2026-11-25T10:00:00Z", "completed"));
  cat.write("visit", 107, "", "delete");                                    // deleted: never counted
  cat.write("visit", 108, visit(3, "2027-03-31T23:30:00Z", "completed"));  // 2027-04-01 00:30 BST
  cat.write("visit", 109, visit(3, "2026-03-31T22:30:00Z", "declined"));   // 2026-03-31 23:30 BST
  cat.write("commute_session", 201, commute("Radlett", "2026-11-29T07:00:00Z", 30));
  cat.write("commute_session", 202, commute("Potters Bar", "2026-11-30T07:00:00Z", 20));
  cat.write("commute_session", 203, commute("Radlett", "2026-12-01T07:00:00Z", 5));
}

// "2026-11-23 c1 n0 d1 r0" for each entry of visits_per_week / visits_per_month.
std::vector<std::string> visit_buckets(const rapidjson::Value& list, const char* label) {
  std::vector<std::string> out;
  for (const auto& item : list.GetArray()) {
    out.push_back(str(item, label) + " c" + std::to_string(at(item, {"completed"})) + " n" +
                  std::to_string(at(item, {"no_answer"})) + " d" + std::to_string(at(item, {"declined"})) + " r" +
                  std::to_string(at(item, {"rescheduled"})));
  }
  return out;
}

// "2026-11-23 30 Radlett=30" for each entry of cards_per_week / cards_per_month (stations with 0 left out).
std::vector<std::string> card_buckets(const rapidjson::Value& list, const char* label) {
  std::vector<std::string> out;
  for (const auto& item : list.GetArray()) {
    std::string line = str(item, label) + " " + std::to_string(at(item, {"total"}));
    std::map<std::string, std::int64_t> stations;  // sorted, whatever the order in the reply
    for (const auto& station : item["by_station"].GetObject()) {
      stations[station.name.GetString()] = station.value.GetInt64();
    }
    for (const auto& [station, cards] : stations) {
      if (cards != 0) line += " " + station + "=" + std::to_string(cards);
    }
    out.push_back(line);
  }
  return out;
}

// ward -> "target/visited coverage" from coverage_by_ward.
std::map<std::string, std::string> coverage(const rapidjson::Value& list) {
  std::map<std::string, std::string> out;
  for (const auto& item : list.GetArray()) {
    const double ratio = item["coverage"].GetDouble();
    char text[64];
    std::snprintf(text, sizeof text, "%lld/%lld %.4f", static_cast<long long>(at(item, {"target"})),
                  static_cast<long long>(at(item, {"visited"})), ratio);
    out[str(item, "ward")] = text;
  }
  return out;
}

}  // namespace

TEST_CASE("the overview's figures equal /api/v1/stats for the same range, and cover every ward", "[e2e][api]") {
  // docs/api.md: the dashboard's headline numbers and the stats endpoint must never disagree.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);

  for (const std::string range : {"?from=2026-10-01&to=2026-11-30", "", "?from=2026-11-30", "?to=2026-11-29"}) {
    INFO("range " << range);
    const auto overview = get_json(server, "/api/v1/overview" + range, cat.token);
    const auto stats = get_json(server, "/api/v1/stats" + range, cat.token);
    REQUIRE(overview.HasMember("stats"));
    CHECK(overview["stats"] == stats);
    CHECK(str(overview, "from") == str(stats, "from"));
    CHECK(str(overview, "to") == str(stats, "to"));
    std::int64_t target = 0, visited = 0;  // the wards add up to the whole
    for (const auto& ward : overview["coverage_by_ward"].GetArray()) {
      target += at(ward, {"target"});
      visited += at(ward, {"visited"});
    }
    CHECK(target == at(stats, {"households", "target"}));
    CHECK(visited == at(stats, {"households", "visited"}));
  }

  const auto overview = get_json(server, "/api/v1/overview?from=2026-10-01&to=2026-11-30", cat.token);
  CHECK(str(overview, "from") == "2026-10-01");
  CHECK(str(overview, "to") == "2026-11-30");
  auto by_ward = coverage(overview["coverage_by_ward"]);
  CHECK(by_ward.size() == kWards.size());
  for (const auto& ward : kWards) {
    INFO(ward);
    const std::string expected = ward == "Elstree" ? "3/1 0.3333" : ward == "Shenley" ? "1/1 1.0000" : "0/0 0.0000";
    CHECK(by_ward.count(ward) == 1);
    CHECK(by_ward[ward] == expected);  // Bushey North's only target household was deleted
  }
}

TEST_CASE("visits and cards per week start on Monday, in local time, only weeks with activity", "[e2e][api]") {
  // docs/api.md: a Sunday's visit belongs to the week before a Monday's; weeks are London weeks.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);

  const auto range = get_json(server, "/api/v1/overview?from=2026-10-01&to=2026-11-30", cat.token);
  CHECK(visit_buckets(range["visits_per_week"], "week") ==
        std::vector<std::string>{"2026-10-19 c1 n0 d0 r0", "2026-11-23 c1 n0 d1 r0", "2026-11-30 c1 n1 d0 r0"});
  CHECK(card_buckets(range["cards_per_week"], "week") ==
        std::vector<std::string>{"2026-11-23 30 Radlett=30", "2026-11-30 20 Potters Bar=20"});

  const auto all_time = get_json(server, "/api/v1/overview", cat.token);
  CHECK(visit_buckets(all_time["visits_per_week"], "week") ==
        std::vector<std::string>{"2026-03-30 c0 n0 d1 r0", "2026-10-19 c1 n0 d0 r0", "2026-11-23 c1 n0 d1 r0",
                                 "2026-11-30 c1 n1 d0 r1", "2027-03-29 c1 n0 d0 r0"});
  CHECK(card_buckets(all_time["cards_per_week"], "week") ==
        std::vector<std::string>{"2026-11-23 30 Radlett=30", "2026-11-30 25 Potters Bar=20 Radlett=5"});
}

TEST_CASE("weekly buckets and coverage follow edits, moves and deletes of visits and sessions", "[e2e][api]") {
  // docs/api.md: the charts count winning versions only; an edited visit must leave its old
  // week and status, not be counted twice.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Oak Road", "Shenley", true));
  cat.write("visit", 101, visit(1, "2026-11-29T12:00:00Z", "completed"));
  cat.write("visit", 102, visit(2, "2026-11-30T12:00:00Z", "completed"));
  cat.write("commute_session", 201, commute("Radlett", "2026-11-29T07:00:00Z", 30));
  const std::string november = "/api/v1/overview?from=2026-11-01&to=2026-11-30";
  auto before = get_json(server, november, cat.token);
  CHECK(visit_buckets(before["visits_per_week"], "week") ==
        std::vector<std::string>{"2026-11-23 c1 n0 d0 r0", "2026-11-30 c1 n0 d0 r0"});
  CHECK(coverage(before["coverage_by_ward"])["Elstree"] == "1/1 1.0000");

  cat.write("visit", 101, visit(1, "2026-11-30T09:00:00Z", "declined"));    // new week, new status
  cat.write("visit", 102, visit(2, "2026-12-01T12:00:00Z", "completed"));  // out of the range
  cat.write("commute_session", 201, commute("Potters Bar", "2026-11-30T07:00:00Z", 12));
  auto after = get_json(server, november, cat.token);
  CHECK(visit_buckets(after["visits_per_week"], "week") == std::vector<std::string>{"2026-11-30 c0 n0 d1 r0"});
  CHECK(card_buckets(after["cards_per_week"], "week") == std::vector<std::string>{"2026-11-30 12 Potters Bar=12"});
  auto by_ward = coverage(after["coverage_by_ward"]);
  CHECK(by_ward["Elstree"] == "1/0 0.0000");
  CHECK(by_ward["Shenley"] == "1/0 0.0000");
  CHECK(after["stats"] == get_json(server, "/api/v1/stats?from=2026-11-01&to=2026-11-30", cat.token));

  cat.write("visit", 101, "", "delete");
  cat.write("commute_session", 201, "", "delete");
  auto gone = get_json(server, november, cat.token);
  CHECK(gone["visits_per_week"].Empty());
  CHECK(gone["cards_per_week"].Empty());
}

TEST_CASE("the version moves with every applied change and /api/v1/version equals the overview's", "[e2e][api]") {
  // docs/api.md: the dashboard polls /api/v1/version to know when to fetch the overview again.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  const auto first = num(get_json(server, "/api/v1/version", cat.token), "version");
  REQUIRE(first.has_value());
  CHECK(num(get_json(server, "/api/v1/overview", cat.token), "version") == first);

  cat.write("visit", 101, visit(1, "2026-11-29T12:00:00Z", "completed"));
  const auto second = num(get_json(server, "/api/v1/version", cat.token), "version");
  REQUIRE(second.has_value());
  CHECK(*second > *first);
  CHECK(num(get_json(server, "/api/v1/overview", cat.token), "version") == second);
  CHECK(num(get_json(server, "/api/v1/version", cat.token), "version") == second);  // stable while idle

  const auto assigned = call(server, "POST", "/api/v1/households/" + uuid(1) + "/assignment", bearer(cat.token),
                             R"({"assigned_to":"officer.ann"})");
  REQUIRE(assigned.status == 200);
  const auto third = num(get_json(server, "/api/v1/version", cat.token), "version");
  REQUIRE(third.has_value());
  CHECK(*third > *second);  // an assignment is a change too

  const auto imported = call(server, "POST", "/api/v1/households/import", bearer(cat.token),
                             "id,address,postcode,ward,target,assigned_to\r\n,2 Elm Road,WD6 1WA,Elstree,1,\r\n",
                             "text/csv");
  REQUIRE(imported.status == 200);
  const auto fourth = num(get_json(server, "/api/v1/version", cat.token), "version");
  REQUIRE(fourth.has_value());
  CHECK(*fourth > *third);  // and so is an import
  cat.write("visit", 102, visit(1, "2026-11-30T12:00:00Z", "completed"));
  CHECK(num(get_json(server, "/api/v1/version", cat.token), "version") > fourth);  // devices' changes come after
}

TEST_CASE("the annual report covers April to March with every month listed", "[e2e][api]") {
  // docs/api.md: the Safer Streets report is per financial year; a month without visits is
  // a 0 in the report, not a gap, and its totals equal /api/v1/stats for the year.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  seed(cat);

  const auto report = get_json(server, "/api/v1/report?year=2026", cat.token);
  CHECK(str(report, "financial_year") == "2026/27");
  CHECK(str(report, "from") == "2026-04-01");
  CHECK(str(report, "to") == "2027-03-31");
  CHECK(report["stats"] == get_json(server, "/api/v1/stats?from=2026-04-01&to=2027-03-31", cat.token));
  CHECK(coverage(report["coverage_by_ward"]).size() == kWards.size());
  CHECK(coverage(report["coverage_by_ward"])["Elstree"] == "3/1 0.3333");

  // 105 is in October; 101-104 in November; 106 in December; 108 and 109 fall outside the year.
  CHECK(visit_buckets(report["visits_per_month"], "month") ==
        std::vector<std::string>{"2026-04 c0 n0 d0 r0", "2026-05 c0 n0 d0 r0", "2026-06 c0 n0 d0 r0",
                                 "2026-07 c0 n0 d0 r0", "2026-08 c0 n0 d0 r0", "2026-09 c0 n0 d0 r0",
                                 "2026-10 c1 n0 d0 r0", "2026-11 c2 n1 d1 r0", "2026-12 c0 n0 d0 r1",
                                 "2027-01 c0 n0 d0 r0", "2027-02 c0 n0 d0 r0", "2027-03 c0 n0 d0 r0"});
  CHECK(card_buckets(report["cards_per_month"], "month") ==
        std::vector<std::string>{"2026-04 0", "2026-05 0", "2026-06 0", "2026-07 0", "2026-08 0", "2026-09 0",
                                 "2026-10 0", "2026-11 50 Potters Bar=20 Radlett=30", "2026-12 5 Radlett=5",
                                 "2027-01 0", "2027-02 0", "2027-03 0"});

  const auto next = get_json(server, "/api/v1/report?year=2027", cat.token);
  CHECK(str(next, "financial_year") == "2027/28");
  CHECK(visit_buckets(next["visits_per_month"], "month").front() == "2027-04 c1 n0 d0 r0");  // visit 108

  // Without a year: the financial year of today where the server is (April to March). Read by
  // the UTC clock here, which names the same year but in the hour around midnight of 31 March.
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  const int this_year = utc.tm_mon + 1 >= 4 ? utc.tm_year + 1900 : utc.tm_year + 1899;
  const auto current = get_json(server, "/api/v1/report", cat.token);
  CHECK(str(current, "from") == std::to_string(this_year) + "-04-01");
  CHECK(str(current, "to") == std::to_string(this_year + 1) + "-03-31");
  for (const char* bad : {"26", "2026/27", "year"}) {
    CHECK(call(server, "GET", std::string("/api/v1/report?year=") + bad, bearer(cat.token)).status == 400);
  }
}
