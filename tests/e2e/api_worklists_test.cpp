// docs/api.md "Work lists" over real HTTP against the real sync-server: the target households
// still to visit, the follow-ups still open, and each officer's activity in a range.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace {

using namespace api_test;

// id -> entry of a list in a reply, copied out of the document.
std::map<std::string, std::shared_ptr<rapidjson::Document>> by_id(const rapidjson::Value& list, const char* id) {
  std::map<std::string, std::shared_ptr<rapidjson::Document>> out;
  for (const auto& item : list.GetArray()) {
    auto copy = std::make_shared<rapidjson::Document>();
    copy->CopyFrom(item, copy->GetAllocator());
    out[str(item, id)] = copy;
  }
  return out;
}

std::set<std::string> keys(const std::map<std::string, std::shared_ptr<rapidjson::Document>>& map) {
  std::set<std::string> out;
  for (const auto& [key, value] : map) out.insert(key);
  return out;
}

std::set<std::string> unvisited(const ServerProcess& server, const std::string& token, const std::string& query = "") {
  const auto reply = get_json(server, "/api/v1/worklists/unvisited" + query, token);
  return keys(by_id(reply["households"], "id"));
}

std::set<std::string> follow_ups(const ServerProcess& server, const std::string& token, const std::string& query = "") {
  const auto reply = get_json(server, "/api/v1/worklists/follow-ups" + query, token);
  return keys(by_id(reply["follow_ups"], "visit_id"));
}

const std::string kFollowUp = R"(,"follow_up_required":true)";

}  // namespace

TEST_CASE("unvisited lists target households without a completed visit, with their last visit", "[e2e][api]") {
  // docs/api.md: officers are sent to the households still to reach; a no_answer is not a
  // visit done, and a household done once must not be sent out again.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Elm Road", "Elstree", true, "WD6 2AB"));
  cat.write("household", 3, household("3 Elm Road", "Elstree", true));
  cat.write("household", 4, household("4 Oak Road", "Shenley", true));
  cat.write("household", 5, household("5 Elm Road", "Elstree", false));
  cat.write("household", 6, household("6 Oak Road", "Shenley", true, "WD7 9XY", "officer.ann"));
  cat.write("household", 7, household("7 Elm Road", "Elstree", true));
  cat.write("household", 7, "", "delete");
  cat.write("household", 8, household("8 Elm Road", "Elstree", true));
  cat.write("visit", 102, visit(2, "2026-11-10T10:00:00Z", "no_answer"));
  cat.write("visit", 103, visit(3, "2026-11-10T10:00:00Z", "completed"));
  cat.write("visit", 104, visit(4, "2026-01-10T10:00:00Z", "completed"));  // long ago: still done
  cat.write("visit", 114, visit(4, "2026-11-10T10:00:00Z", "no_answer"));
  cat.write("visit", 108, visit(8, "2026-11-01T10:00:00Z", "no_answer"));
  cat.write("visit", 118, visit(8, "2026-11-15T10:00:00Z", "completed"));
  cat.write("visit", 118, "", "delete");  // a deleted visit was never made

  CHECK(unvisited(server, cat.token, "?since=2026-01-01") == std::set<std::string>{uuid(1), uuid(2), uuid(6), uuid(8)});
  CHECK(unvisited(server, cat.token, "?ward=Elstree&since=2026-01-01") == std::set<std::string>{uuid(1), uuid(2), uuid(8)});
  CHECK(unvisited(server, cat.token, "?ward=Shenley&since=2026-01-01") == std::set<std::string>{uuid(6)});
  CHECK(unvisited(server, cat.token, "?ward=Bushey%20North&since=2026-01-01").empty());
  // "Not visited since": a completed visit on the day itself counts, one the day before does not.
  CHECK(unvisited(server, cat.token, "?ward=Shenley&since=2026-01-10") == std::set<std::string>{uuid(6)});
  CHECK(unvisited(server, cat.token, "?ward=Shenley&since=2026-01-11") == std::set<std::string>{uuid(4), uuid(6)});
  CHECK(unvisited(server, cat.token, "?ward=Elstree&since=2026-11-11") == std::set<std::string>{uuid(1), uuid(2), uuid(3), uuid(8)});
  // A ward not in the lists is refused (free text would reach the audit trail), on every list.
  for (const std::string path : {"/api/v1/worklists/unvisited", "/api/v1/worklists/follow-ups", "/api/v1/households"}) {
    INFO(path);
    const auto refused = test_support::http_get(server.port(), path + "?ward=7%20Nowhere%20Lane", cat.token);
    CHECK(refused.status == 400);
    CHECK(refused.body.find("ward must be one of the wards") != std::string::npos);
    CHECK(refused.body.find("Nowhere") == std::string::npos);
  }

  const auto reply = get_json(server, "/api/v1/worklists/unvisited?since=2026-01-01", cat.token);
  CHECK(str(reply, "since") == "2026-01-01");
  auto listed = by_id(reply["households"], "id");
  const auto& never = *listed.at(uuid(1));
  CHECK(never["last_visit"].IsNull());
  CHECK(str(never, "assigned_to") == "<null>");
  const auto& knocked = *listed.at(uuid(2));
  CHECK(str(knocked, "address") == "2 Elm Road");
  CHECK(str(knocked, "postcode") == "WD6 2AB");
  CHECK(str(knocked, "ward") == "Elstree");
  REQUIRE(knocked["last_visit"].IsObject());
  CHECK(str(knocked["last_visit"], "status") == "no_answer");
  CHECK(str(knocked["last_visit"], "visited_at").rfind("2026-11-10T10:00:00", 0) == 0);
  CHECK(str(*listed.at(uuid(6)), "assigned_to") == "officer.ann");
  REQUIRE(listed.at(uuid(8))->operator[]("last_visit").IsObject());
  CHECK(str((*listed.at(uuid(8)))["last_visit"], "status") == "no_answer");  // not the deleted visit

  cat.write("visit", 101, visit(1, "2026-11-20T10:00:00Z", "completed"));
  CHECK(unvisited(server, cat.token, "?ward=Elstree&since=2026-01-01") == std::set<std::string>{uuid(2), uuid(8)});
}

TEST_CASE("unvisited is since 1 April of this financial year unless told a date, and refuses a bad date", "[e2e][api]") {
  // docs/api.md: "never visited" stops being useful after the first year; the list is of
  // households not visited this financial year unless the coordinator picks another date.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);  // the server counts in Europe/London: only an hour by 1 April could differ
  const int month = local.tm_mon + 1, year = local.tm_year + 1900;
  const int fy = month >= 4 ? year : year - 1;
  const std::string fy_start = std::to_string(fy) + "-04-01";
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Elm Road", "Elstree", true));
  cat.write("visit", 101, visit(1, std::to_string(fy) + "-03-31T12:00:00Z", "completed"));  // last year's
  cat.write("visit", 102, visit(2, std::to_string(fy) + "-04-01T12:00:00Z", "completed"));  // this year's

  const auto reply = get_json(server, "/api/v1/worklists/unvisited", cat.token);
  CHECK(str(reply, "since") == fy_start);
  CHECK(keys(by_id(reply["households"], "id")) == std::set<std::string>{uuid(1)});

  for (const std::string bad : {"2026-13-01", "2026-02-30", "01-04-2026", "yesterday", "2026-04-01T00:00"}) {
    INFO(bad);
    const auto refused = test_support::http_get(server.port(), "/api/v1/worklists/unvisited?since=" + bad, cat.token);
    CHECK(refused.status == 400);
    CHECK(refused.body.find("since must be a date written YYYY-MM-DD") != std::string::npos);
  }
}

TEST_CASE("a follow-up stays listed until a later completed visit to its household", "[e2e][api]") {
  // docs/api.md: an earlier visit cannot settle a later follow-up, nor can a visit where
  // nobody answered; the list must not lose a household that still needs help.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Oak Road", "Shenley", true, "WD7 9XY", "officer.ann"));
  cat.write("household", 3, household("3 Elm Road", "Elstree", false, "WD6 1WA", "officer.ann"));
  Device ann(server, "tab-ann-1", "officer.ann", "officer");

  cat.write("visit", 101, visit(1, "2026-11-10T10:00:00Z", "completed", kFollowUp));
  cat.write("visit", 103, visit(2, "2026-11-10T10:00:00Z", "completed", kFollowUp));
  cat.write("visit", 104, visit(2, "2026-11-01T10:00:00Z", "completed"));  // earlier: does not clear 103
  cat.write("visit", 105, visit(2, "2026-11-15T10:00:00Z", "no_answer"));  // later, but not completed
  cat.write("visit", 107, visit(2, "2026-11-10T11:00:00+02:00", "completed"));  // 09:00Z: earlier, as an instant
  ann.write("visit", 106, visit(3, "2026-11-12T10:00:00Z", "completed", kFollowUp));
  CHECK(follow_ups(server, cat.token) == std::set<std::string>{uuid(101), uuid(103), uuid(106)});

  cat.write("visit", 102, visit(1, "2026-11-20T10:00:00Z", "completed"));  // later and completed: clears 101
  CHECK(follow_ups(server, cat.token) == std::set<std::string>{uuid(103), uuid(106)});
  CHECK(follow_ups(server, cat.token, "?ward=Shenley") == std::set<std::string>{uuid(103)});
  CHECK(follow_ups(server, cat.token, "?ward=Elstree") == std::set<std::string>{uuid(106)});

  const auto reply = get_json(server, "/api/v1/worklists/follow-ups", cat.token);
  auto listed = by_id(reply["follow_ups"], "visit_id");
  const auto& ann_visit = *listed.at(uuid(106));
  CHECK(str(ann_visit, "household_id") == uuid(3));
  CHECK(str(ann_visit, "address") == "3 Elm Road");
  CHECK(str(ann_visit, "postcode") == "WD6 1WA");
  CHECK(str(ann_visit, "ward") == "Elstree");
  CHECK(str(ann_visit, "visited_at").rfind("2026-11-12T10:00:00", 0) == 0);
  CHECK(str(ann_visit, "recorded_by") == "officer.ann");
  CHECK(str(ann_visit, "assigned_to") == "officer.ann");
  CHECK(str(*listed.at(uuid(103)), "recorded_by") == "coord.cat");

  cat.write("visit", 106, "", "delete");  // a deleted visit asks for nothing
  CHECK(follow_ups(server, cat.token) == std::set<std::string>{uuid(103)});
}

TEST_CASE("activity counts each officer's visits, follow-ups, sessions and cards in the range", "[e2e][api]") {
  // docs/api.md: coordinators see who did what this month, including enrolled officers who did nothing.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true, "WD6 1WA", "officer.ann"));
  cat.write("household", 2, household("2 Elm Road", "Elstree", true, "WD6 1WA", "officer.ann"));
  cat.write("household", 3, household("3 Oak Road", "Shenley", true, "WD7 9XY", "pcso.pat"));
  server.enroll("tab-bob-1", "officer.bob", "officer");  // never syncs
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  Device pat(server, "tab-pat-1", "pcso.pat", "pcso");
  ann.write("visit", 201, visit(1, "2026-11-10T10:00:00Z", "completed", kFollowUp));
  ann.write("visit", 202, visit(1, "2026-11-12T10:00:00Z", "no_answer"));
  ann.write("visit", 203, visit(2, "2026-11-14T10:00:00Z", "completed"));
  ann.write("visit", 204, visit(2, "2026-12-05T10:00:00Z", "completed"));  // after the range
  ann.write("visit", 205, visit(2, "2026-11-16T10:00:00Z", "completed"));
  ann.write("visit", 205, "", "delete");
  ann.write("commute_session", 301, commute("Radlett", "2026-11-10T07:00:00Z", 10));
  ann.write("commute_session", 302, commute("Potters Bar", "2026-11-20T07:00:00Z", 15));
  ann.write("commute_session", 303, commute("Radlett", "2026-12-03T07:00:00Z", 99));  // after the range
  pat.write("visit", 211, visit(3, "2026-11-11T10:00:00Z", "completed"));
  pat.write("commute_session", 311, commute("Radlett", "2026-11-11T07:00:00Z", 7));

  const auto reply = get_json(server, "/api/v1/activity?from=2026-11-01&to=2026-11-30", cat.token);
  auto officers = by_id(reply["officers"], "user_id");
  CHECK(keys(officers) == std::set<std::string>{"coord.cat", "officer.ann", "officer.bob", "pcso.pat"});

  const auto& a = *officers.at("officer.ann");
  CHECK(str(a, "role") == "officer");
  CHECK(num(a, "visits") == 3);
  CHECK(num(a, "completed") == 2);
  CHECK(num(a, "households_visited") == 2);
  CHECK(num(a, "follow_ups") == 1);
  CHECK(num(a, "commute_sessions") == 2);
  CHECK(num(a, "cards") == 25);
  CHECK(str(a, "last_sync_at").size() >= 20);
  CHECK(str(a, "last_sync_at").back() == 'Z');

  const auto& p = *officers.at("pcso.pat");
  CHECK(str(p, "role") == "pcso");
  CHECK(num(p, "visits") == 1);
  CHECK(num(p, "completed") == 1);
  CHECK(num(p, "households_visited") == 1);
  CHECK(num(p, "follow_ups") == 0);
  CHECK(num(p, "commute_sessions") == 1);
  CHECK(num(p, "cards") == 7);

  const auto& b = *officers.at("officer.bob");
  CHECK(str(b, "role") == "officer");
  for (const char* field : {"visits", "completed", "households_visited", "follow_ups", "commute_sessions", "cards"}) {
    INFO(field);
    CHECK(num(b, field) == 0);
  }
  CHECK(b["last_sync_at"].IsNull());
  CHECK(str(*officers.at("coord.cat"), "role") == "coordinator");
  CHECK(num(*officers.at("coord.cat"), "visits") == 0);

  const auto december = get_json(server, "/api/v1/activity?from=2026-12-01&to=2026-12-31", cat.token);
  auto later = by_id(december["officers"], "user_id");
  CHECK(num(*later.at("officer.ann"), "visits") == 1);
  CHECK(num(*later.at("officer.ann"), "cards") == 99);
}

TEST_CASE("follow-ups due list each officer's due and overdue follow-ups on the latest visit", "[e2e][api]") {
  // docs/api.md: officers are told what is due today and what is late; a later visit of any
  // status supersedes a follow-up, and one due later is not listed yet.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  const std::string today = str(get_json(server, "/api/v1/worklists/follow-ups-due", cat.token), "today");
  REQUIRE(today.size() == 10);
  const auto due = [](const std::string& date) { return R"(,"follow_up_required":true,"follow_up_due":")" + date + "\""; };
  cat.write("household", 1, household("1 Elm Road", "Elstree", true, "WD6 1WA", "officer.ann"));
  cat.write("household", 2, household("2 Elm Road", "Elstree", false, "WD6 1WA", "officer.ann"));
  cat.write("household", 3, household("3 Elm Road", "Elstree", false));
  cat.write("household", 4, household("4 Oak Road", "Shenley", true, "WD7 9XY", "pcso.pat"));
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  Device pat(server, "tab-pat-1", "pcso.pat", "pcso");
  ann.write("visit", 101, visit(1, "2026-11-10T10:00:00Z", "completed", due("2020-01-06")));
  ann.write("visit", 111, visit(1, "2026-11-01T10:00:00Z", "completed"));  // earlier: supersedes nothing
  ann.write("visit", 102, visit(2, "2026-11-11T10:00:00Z", "completed", due(today)));
  cat.write("visit", 103, visit(3, "2026-11-10T10:00:00Z", "completed", due("2099-01-01")));  // not yet due
  cat.write("visit", 104, visit(3, "2026-11-12T10:00:00Z", "completed", due("2020-02-01")));
  pat.write("visit", 105, visit(4, "2026-11-10T10:00:00Z", "completed", due("2020-01-01")));
  pat.write("visit", 106, visit(4, "2026-11-15T10:00:00Z", "no_answer"));  // later: supersedes 105

  const auto reply = get_json(server, "/api/v1/worklists/follow-ups-due", cat.token);
  CHECK(str(reply, "today") == today);
  auto officers = by_id(reply["officers"], "officer");
  CHECK(keys(officers) == std::set<std::string>{"coord.cat", "officer.ann"});
  const auto& a = *officers.at("officer.ann");
  CHECK(keys(by_id(a["overdue"], "visit_id")) == std::set<std::string>{uuid(101)});
  CHECK(keys(by_id(a["due"], "visit_id")) == std::set<std::string>{uuid(102)});
  const auto& late = a["overdue"][0];
  CHECK(str(late, "household_id") == uuid(1));
  CHECK(str(late, "address") == "1 Elm Road");
  CHECK(str(late, "postcode") == "WD6 1WA");
  CHECK(str(late, "ward") == "Elstree");
  CHECK(str(late, "follow_up_due") == "2020-01-06");
  CHECK(str(late, "recorded_by") == "officer.ann");
  CHECK(str(late, "assigned_to") == "officer.ann");
  CHECK(str(late, "visited_at").rfind("2026-11-10T10:00:00", 0) == 0);
  const auto& c = *officers.at("coord.cat");  // an unassigned household: who recorded the visit
  CHECK(keys(by_id(c["overdue"], "visit_id")) == std::set<std::string>{uuid(104)});
  CHECK(c["due"].Empty());
  CHECK(str(c["overdue"][0], "assigned_to") == "<null>");

  CHECK(get_json(server, "/api/v1/worklists/follow-ups-due?ward=Shenley", cat.token)["officers"].Empty());
  const auto refused = test_support::http_get(server.port(), "/api/v1/worklists/follow-ups-due?ward=Nowhere", cat.token);
  CHECK(refused.status == 400);

  // Assigned to someone else, the household's follow-up moves to them; done, it goes.
  cat.write("household", 3, household("3 Elm Road", "Elstree", false, "WD6 1WA", "pcso.pat"));
  officers = by_id(get_json(server, "/api/v1/worklists/follow-ups-due", cat.token)["officers"], "officer");
  CHECK(keys(officers) == std::set<std::string>{"officer.ann", "pcso.pat"});
  ann.write("visit", 121, visit(1, "2026-11-20T10:00:00Z", "completed"));
  officers = by_id(get_json(server, "/api/v1/worklists/follow-ups-due?ward=Elstree", cat.token)["officers"], "officer");
  CHECK(keys(by_id((*officers.at("officer.ann"))["overdue"], "visit_id")).empty());
}
