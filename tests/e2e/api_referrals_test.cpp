// docs/api.md "Referrals to pass on" over real HTTP against the real sync-server: the work list
// and the partner's CSV with what the partner needs (never the notes), the not-recorded basis
// flagged and left out of the CSV unless included, "mark as sent" with CSRF and audit, and the
// per-partner counts in the statistics.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

namespace {

using namespace api_test;

const std::string kNote = "Resident confided a private matter";

std::string referred(int household_n, const std::string& visited_at, const std::string& partners, const std::string& basis) {
  return visit(household_n, visited_at, "completed",
               R"(,"referrals":[)" + partners + "]" + (basis.empty() ? "" : R"(,"share_basis":")" + basis + '"') +
                   R"(,"notes":)" + json_string(kNote));
}

// The entries of the audit trail with `action`, as "kind detail" lines.
std::vector<std::string> audited(const ServerProcess& server, const WebSession& session, const std::string& action) {
  const auto reply = call(server, "GET", "/api/v1/audit?action=" + action, with_cookie(session, ""));
  REQUIRE(reply.status == 200);
  std::vector<std::string> lines;
  const auto list = parse(reply.body);
  for (const auto& entry : list["entries"].GetArray()) lines.push_back(str(entry, "kind") + " " + str(entry, "detail"));
  return lines;
}

}  // namespace

TEST_CASE("referrals to pass on: listed per partner, exported without the notes, marked as sent, counted", "[e2e][api]") {
  ServerProcess server;
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("household", 2, household("2 Oak Road", "Shenley", true, "WD7 9XY"));
  cat.write("visit", 11, referred(1, "2026-11-10T10:00:00.000Z", R"("fire_service","health")", "consent"));
  cat.write("visit", 12, referred(2, "2026-11-12T10:00:00.000Z", R"("fire_service")", ""));  // a protocol-1 session
  cat.write("visit", 13, referred(2, "2026-10-01T10:00:00.000Z", R"("fire_service")", "safeguarding"));
  const auto session = log_in(server);

  // The list: oldest first, the not-recorded one flagged, no notes.
  const auto listed = call(server, "GET", "/api/v1/referrals?partner=fire_service&from=2026-11-01", bearer(cat.token));
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(kNote) == std::string::npos);
  const auto list = parse(listed.body);
  CHECK(at(list, {"counts", "total"}) == 2);
  CHECK(at(list, {"counts", "not_recorded"}) == 1);
  REQUIRE(list["referrals"].Size() == 2);
  CHECK(str(list["referrals"][0], "visit_id") == uuid(11));
  CHECK(str(list["referrals"][0], "address") == "1 Elm Road");
  CHECK(str(list["referrals"][0], "share_basis") == "consent");
  CHECK(str(list["referrals"][0], "officer") == "coord.cat");
  CHECK(list["referrals"][1]["basis_not_recorded"].GetBool());
  CHECK(list["referrals"][1]["share_basis"].IsNull());

  // The partner's CSV leaves the not-recorded one out unless asked, and never holds the notes.
  const auto csv = call(server, "GET", "/api/v1/exports/referrals.csv?partner=fire_service&from=2026-11-01", bearer(cat.token));
  REQUIRE(csv.status == 200);
  CHECK(csv.header("content-disposition") == "attachment; filename=\"referrals-fire_service.csv\"");
  CHECK(csv.body.find(uuid(11)) != std::string::npos);
  CHECK(csv.body.find(uuid(12)) == std::string::npos);
  CHECK(csv.body.find(kNote) == std::string::npos);
  const auto with_unrecorded =
      call(server, "GET", "/api/v1/exports/referrals.csv?partner=fire_service&from=2026-11-01&include_not_recorded=true",
           bearer(cat.token));
  CHECK(with_unrecorded.body.find(uuid(12) + ",2026-11-12T10:00:00.000Z") != std::string::npos);
  CHECK(with_unrecorded.body.find(",not_recorded,") != std::string::npos);

  // Refusals name what was wrong and echo nothing.
  CHECK(call(server, "GET", "/api/v1/referrals?partner=Elm%20Road", bearer(cat.token)).status == 400);
  CHECK(call(server, "GET", "/api/v1/referrals?partner=health&state=later", bearer(cat.token)).status == 400);
  CHECK(call(server, "GET", "/api/v1/exports/referrals.csv", bearer(cat.token)).status == 400);
  const auto bad_ids = call(server, "POST", "/api/v1/referrals/sent", with_cookie(session),
                            R"({"partner":"fire_service","visit_ids":["1 Elm Road"]})");
  CHECK(bad_ids.status == 400);
  CHECK(bad_ids.body.find("Elm") == std::string::npos);
  CHECK(call(server, "POST", "/api/v1/referrals/sent", with_cookie(session), R"({"partner":"fire_service"})").status == 400);

  // Mark as sent: CSRF like every dashboard write; then "all" leaves out the not-recorded one.
  CHECK(call(server, "POST", "/api/v1/referrals/sent", with_cookie(session, ""),
             R"({"partner":"fire_service","all":true})").status == 403);
  const auto marked = call(server, "POST", "/api/v1/referrals/sent", with_cookie(session),
                           R"({"partner":"fire_service","all":true,"from":"2026-11-01","to":null})");
  REQUIRE(marked.status == 200);
  CHECK(at(parse(marked.body), {"marked"}) == 1);
  const auto selected = call(server, "POST", "/api/v1/referrals/sent", with_cookie(session),
                             R"({"partner":"health","visit_ids":[")" + uuid(11) + R"("]})");
  CHECK(at(parse(selected.body), {"marked"}) == 1);

  const auto sent = parse(call(server, "GET", "/api/v1/referrals?partner=fire_service&state=sent", bearer(cat.token)).body);
  REQUIRE(sent["referrals"].Size() == 1);
  CHECK(str(sent["referrals"][0], "sent_by") == "cat");
  const auto stats = get_json(server, "/api/v1/stats", cat.token);
  CHECK(at(stats, {"referrals", "by_partner", "fire_service"}) == 3);
  CHECK(at(stats, {"referrals", "sent_by_partner", "fire_service"}) == 1);
  CHECK(at(stats, {"referrals", "by_partner", "health"}) == 1);
  CHECK(at(stats, {"referrals", "sent_by_partner", "health"}) == 1);
  CHECK(at(stats, {"referrals", "by_partner", "victim_support"}) == 0);
  const auto november = get_json(server, "/api/v1/overview?from=2026-11-01&to=2026-11-30", cat.token);
  CHECK(at(november, {"stats", "referrals", "by_partner", "fire_service"}) == 2);

  // Erasing a household takes its referrals out of the list and the counts.
  cat.write("household", 1, "", "delete");
  const auto after = call(server, "GET", "/api/v1/referrals?partner=health&state=all", bearer(cat.token));
  CHECK(after.body.find(uuid(11)) == std::string::npos);
  CHECK(after.body.find("Elm Road") == std::string::npos);
  CHECK(at(get_json(server, "/api/v1/stats", cat.token), {"referrals", "by_partner", "health"}) == 0);

  // Every read of personal data and every mark is audited, with ids and counts only.
  const auto views = audited(server, session, "worklist_view");
  CHECK(std::count(views.begin(), views.end(),
                   "referrals partner=fire_service from=2026-11-01 to= state=unsent not_recorded=included rows=2 total=2") == 1);
  const auto exports = audited(server, session, "export");
  CHECK(std::count(exports.begin(), exports.end(),
                   "referrals partner=fire_service from=2026-11-01 to= state=unsent not_recorded=left_out rows=1") == 1);
  const auto marks = audited(server, session, "referrals_sent");
  CHECK(std::count(marks.begin(), marks.end(), "referrals partner=fire_service from=2026-11-01 to= selected=all marked=1") == 1);
  CHECK(std::count(marks.begin(), marks.end(), "referrals partner=health from= to= selected=1 marked=1") == 1);
  for (const auto& line : views) CHECK(line.find("Elm") == std::string::npos);
}

TEST_CASE("a partner the server adds has its own referrals to pass on, CSV and counts", "[e2e][api][questions]") {
  ServerProcess server;
  test_support::TempDir dir;
  const std::string questions = dir.file("questions.json");
  std::ofstream(questions)
      << R"([{"id":"feels_safe","kind":"scale","label":"How safe does the resident feel at home?"},)"
         R"({"id":"satisfaction","kind":"scale","label":"How satisfied was the resident with the visit?"},)"
         R"({"id":"feedback","kind":"text","label":"Resident's feedback"},)"
         R"({"id":"owl_signup","kind":"yes_no","label":"OWL sign-up"},)"
         R"({"id":"age_uk","kind":"referral","label":"Age UK"}])";
  REQUIRE(server.admin({"questions", "--file", questions}).exit_code == 0);
  server.start();
  add_coordinator(server);
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("visit", 11, visit(1, "2026-11-10T10:00:00.000Z", "completed",
                               R"(,"answers":{"age_uk":true,"owl_signup":true},"share_basis":"consent","notes":)" +
                                   json_string(kNote)));
  const auto session = log_in(server);

  const auto listed = call(server, "GET", "/api/v1/referrals?partner=age_uk&state=all", bearer(cat.token));
  REQUIRE(listed.status == 200);
  const auto list = parse(listed.body);
  CHECK(at(list, {"counts", "total"}) == 1);
  REQUIRE(list["referrals"].Size() == 1);
  CHECK(str(list["referrals"][0], "visit_id") == uuid(11));
  CHECK(str(list["referrals"][0], "address") == "1 Elm Road");
  const auto csv = call(server, "GET", "/api/v1/exports/referrals.csv?partner=age_uk", bearer(cat.token));
  REQUIRE(csv.status == 200);
  CHECK(csv.header("content-disposition") == "attachment; filename=\"referrals-age_uk.csv\"");
  CHECK(csv.body.find("age_uk," + uuid(11)) != std::string::npos);
  CHECK(csv.body.find(kNote) == std::string::npos);
  const auto marked = call(server, "POST", "/api/v1/referrals/sent", with_cookie(session),
                           R"({"partner":"age_uk","visit_ids":[")" + uuid(11) + R"("]})");
  REQUIRE(marked.status == 200);
  CHECK(at(parse(marked.body), {"marked"}) == 1);

  const auto stats = get_json(server, "/api/v1/stats", cat.token);
  CHECK(at(stats, {"referrals", "visits"}) == 1);  // referred to the added partner only
  CHECK(at(stats, {"referrals", "by_partner", "age_uk"}) == 1);
  CHECK(at(stats, {"referrals", "sent_by_partner", "age_uk"}) == 1);
  CHECK(str(stats["referrals"]["partner_labels"], "age_uk") == "Age UK");
  CHECK_FALSE(stats["answers"].HasMember("age_uk"));

  // A question that is not a partner is refused, the message naming the partners there are.
  const auto outcome = call(server, "GET", "/api/v1/referrals?partner=owl_signup", bearer(cat.token));
  CHECK(outcome.status == 400);
  CHECK(outcome.body.find("partner must be one of fire_service, victim_support, adult_social_care, health, other or age_uk") !=
        std::string::npos);
  CHECK(call(server, "POST", "/api/v1/referrals/sent", with_cookie(session), R"({"partner":"owl_signup","all":true})").status ==
        400);
}
