// docs/api.md "Exports" over real HTTP against the real sync-server: RFC 4180 CSV that a strict
// parser reads back to the very text recorded, formula injection neutralised, local-date
// ranges, and only the winning, not-deleted versions.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace api_test;
using namespace std::chrono_literals;

// A strict RFC 4180 reader: records end with CRLF (the last one too), a quoted cell may hold
// commas, line breaks and doubled quotes. `problem` says what broke the rules.
struct Csv {
  std::vector<std::vector<std::string>> rows;
  std::string problem;
};

Csv parse_csv(const std::string& text) {
  Csv csv;
  std::vector<std::string> row;
  std::string cell;
  bool in_quotes = false, was_quoted = false, row_open = false;
  const auto fail = [&csv](const std::string& what, std::size_t at) {
    csv.problem = what + " at byte " + std::to_string(at);
    return csv;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    row_open = true;
    if (in_quotes) {
      if (c != '"') {
        cell += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else {
        in_quotes = false;
      }
    } else if (c == '"') {
      if (!cell.empty() || was_quoted) return fail("a quote inside an unquoted cell", i);
      in_quotes = was_quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') return fail("CR without LF", i);
      ++i;
      row.push_back(std::move(cell));
      csv.rows.push_back(std::move(row));
      row.clear();
      cell.clear();
      was_quoted = row_open = false;
    } else if (c == '\n') {
      return fail("a bare LF line end", i);
    } else {
      if (was_quoted) return fail("text after a closing quote", i);
      cell += c;
    }
  }
  if (in_quotes) return fail("an unclosed quote", text.size());
  if (row_open) return fail("a last record without CRLF", text.size());
  return csv;
}

// GET an export with a coordinator's token: its header row, and column -> cell per row.
struct Export {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

Export get_csv(const ServerProcess& server, const std::string& target, const std::string& token) {
  const auto reply = test_support::http_get(server.port(), target, token);
  INFO("GET " << target << " -> " << reply.status << "\n" << reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type").rfind("text/csv", 0) == 0);
  CHECK(reply.header("content-disposition").rfind("attachment", 0) == 0);
  const auto csv = parse_csv(reply.body);
  INFO(csv.problem);
  REQUIRE(csv.problem.empty());
  REQUIRE_FALSE(csv.rows.empty());
  Export out{csv.rows.front(), {}};
  for (std::size_t r = 1; r < csv.rows.size(); ++r) {
    REQUIRE(csv.rows[r].size() == out.header.size());
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < out.header.size(); ++c) row[out.header[c]] = csv.rows[r][c];
    out.rows.push_back(std::move(row));
  }
  return out;
}

// The rows' values in `column`, in order.
std::vector<std::string> column(const Export& csv, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& row : csv.rows) out.push_back(row.at(name));
  return out;
}

const std::vector<std::string> kVisitColumns = {
    "id", "visited_at", "local_date", "status", "household_id", "address", "postcode", "ward", "vulnerability",
    "crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice", "community_involvement_info",
    "first_aid_training", "follow_up_required", "smoke_detectors_fitted", "referrals", "share_basis", "follow_up_due",
    "rescheduled_for", "notes", "recorded_by",
    // then one per question of the server (protocol.md §5.8): a new server's three
    "answer_feels_safe", "answer_satisfaction", "answer_feedback"};
const std::vector<std::string> kSessionColumns = {"id", "station", "started_at", "ended_at", "local_date",
                                                  "cards_distributed", "messages", "recorded_by"};

const std::string kAwkward = "Spoke to resident, \"very\" helpful\nCall back in spring; caf\xC3\xA9 nearby";
const std::vector<std::pair<std::string, std::string>> kFormulas = {
    {"=SUM(A1)", "'=SUM(A1)"}, {"+1", "'+1"}, {"-2", "'-2"}, {"@x", "'@x"}, {"\tx", "'\tx"}, {"\rx", "'\rx"}};

std::string notes(const std::string& text) { return R"(,"notes":)" + json_string(text); }

}  // namespace

TEST_CASE("the visits export is RFC 4180 with CRLF and reads back to the very notes recorded", "[e2e][api]") {
  // docs/api.md: the export is opened in spreadsheets and read by scripts; a note with a comma,
  // a quote or a line break must neither shift columns nor change.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  std::string vulnerable = household("1 Elm Road, Flat \"2\"", "Elstree", true, "wd6 1wa", "officer.ann");
  vulnerable.insert(vulnerable.size() - 1, R"(,"vulnerability":["elderly","lives_alone"])");
  cat.write("household", 1, vulnerable);
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  ann.write("visit", 101, visit(1, "2026-11-10T10:00:00Z", "completed",
                                R"(,"crime_prevention_advice":true,"fire_safety_check":true,)"
                                R"("follow_up_required":true,"follow_up_due":"2026-11-24",)"
                                R"("smoke_detectors_fitted":2,"referrals":["fire_service","health"],)"
                                R"("share_basis":"consent","answers":{"feels_safe":2,"feedback":"Kind, \"thorough\" officer"})" +
                                    notes(kAwkward)));

  const auto csv = get_csv(server, "/api/v1/exports/visits.csv", cat.token);
  CHECK(csv.header == kVisitColumns);
  REQUIRE(csv.rows.size() == 1);
  const auto& row = csv.rows[0];
  CHECK(row.at("id") == uuid(101));
  CHECK(row.at("visited_at").rfind("2026-11-10T10:00:00", 0) == 0);
  CHECK(row.at("visited_at").back() == 'Z');
  CHECK(row.at("local_date") == "2026-11-10");
  CHECK(row.at("status") == "completed");
  CHECK(row.at("household_id") == uuid(1));
  CHECK(row.at("address") == "1 Elm Road, Flat \"2\"");
  CHECK(row.at("postcode") == "WD6 1WA");
  CHECK(row.at("ward") == "Elstree");
  CHECK(row.at("vulnerability") == "elderly;lives_alone");
  CHECK(row.at("crime_prevention_advice") == "true");
  CHECK(row.at("fire_safety_check") == "true");
  CHECK(row.at("healthy_lifestyle_advice") == "false");
  CHECK(row.at("community_involvement_info") == "false");
  CHECK(row.at("first_aid_training") == "false");
  CHECK(row.at("follow_up_required") == "true");
  CHECK(row.at("follow_up_due") == "2026-11-24");
  CHECK(row.at("rescheduled_for").empty());
  CHECK(row.at("smoke_detectors_fitted") == "2");
  CHECK(row.at("referrals") == "fire_service;health");
  CHECK(row.at("share_basis") == "consent");
  CHECK(row.at("notes") == kAwkward);
  CHECK(row.at("recorded_by") == "officer.ann");
  CHECK(row.at("answer_feels_safe") == "2");
  CHECK(row.at("answer_satisfaction").empty());  // not answered
  CHECK(row.at("answer_feedback") == "Kind, \"thorough\" officer");
}

TEST_CASE("export cells that a spreadsheet would run as a formula get a leading apostrophe", "[e2e][api]") {
  // docs/api.md: a note typed as "=HYPERLINK(…)" on a tablet must not run on a coordinator's PC.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("=HYPERLINK(\"http://evil.example\",\"1 Elm Road\")", "Elstree", true));
  int n = 101, day = 10;
  for (const auto& [note, exported] : kFormulas) {
    cat.write("visit", n++, visit(1, "2026-11-" + std::to_string(day++) + "T10:00:00Z", "completed", notes(note)));
  }
  cat.write("visit", n, visit(1, "2026-11-30T10:00:00Z", "completed", notes("Fine - nothing to add")));

  const auto csv = get_csv(server, "/api/v1/exports/visits.csv", cat.token);
  std::vector<std::string> expected;
  for (const auto& [note, exported] : kFormulas) expected.push_back(exported);
  expected.push_back("Fine - nothing to add");
  CHECK(column(csv, "notes") == expected);
  CHECK(csv.rows.front().at("address") == "'=HYPERLINK(\"http://evil.example\",\"1 Elm Road\")");  // every text cell
}

TEST_CASE("exports select by local date in Europe/London and hold only winning, not-deleted versions", "[e2e][api]") {
  // docs/api.md: a visit at 00:30 BST belongs to that day's export, and an edited or deleted
  // record must appear as it finally is, once, or not at all.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device dan(server, "tab-dan-1", "coord.dan", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true));
  cat.write("visit", 101, visit(1, "2026-06-30T23:30:00Z", "completed"));  // 2026-07-01 00:30 BST
  cat.write("visit", 102, visit(1, "2026-06-30T22:30:00Z", "declined"));   // 2026-06-30 23:30 BST
  cat.write("visit", 103, visit(1, "2026-07-01T12:00:00Z", "completed"));
  cat.write("visit", 103, "", "delete");
  cat.write("visit", 104, visit(1, "2026-07-01T13:00:00Z", "completed", notes("first")));
  cat.write("visit", 104, visit(1, "2026-07-01T13:00:00Z", "completed", notes("second")));
  dan.write("visit", 104, visit(1, "2026-07-01T13:00:00Z", "completed", notes("stale")), "upsert",
            contract_test::hlc(-60s));  // arrives last, loses
  cat.write("commute_session", 201,
            commute("Radlett", "2026-06-30T23:30:00Z", 40,
                    R"(,"ended_at":"2026-07-01T01:00:00Z","messages":["vehicle_security","home_security"])"));
  cat.write("commute_session", 202, commute("Potters Bar", "2026-06-30T22:30:00Z", 12));
  cat.write("commute_session", 203, commute("Radlett", "2026-07-01T08:00:00Z", 5));
  cat.write("commute_session", 203, "", "delete");

  const auto july = get_csv(server, "/api/v1/exports/visits.csv?from=2026-07-01&to=2026-07-01", cat.token);
  CHECK(july.header == kVisitColumns);
  CHECK(column(july, "id") == std::vector<std::string>{uuid(101), uuid(104)});
  CHECK(column(july, "local_date") == std::vector<std::string>{"2026-07-01", "2026-07-01"});
  CHECK(column(july, "notes") == std::vector<std::string>{"", "second"});
  CHECK(column(get_csv(server, "/api/v1/exports/visits.csv?to=2026-06-30", cat.token), "id") ==
        std::vector<std::string>{uuid(102)});
  CHECK(get_csv(server, "/api/v1/exports/visits.csv?from=2026-07-02", cat.token).rows.empty());
  CHECK(get_csv(server, "/api/v1/exports/visits.csv", cat.token).rows.size() == 3);

  const auto sessions =
      get_csv(server, "/api/v1/exports/commute_sessions.csv?from=2026-07-01&to=2026-07-31", cat.token);
  CHECK(sessions.header == kSessionColumns);
  REQUIRE(sessions.rows.size() == 1);
  const auto& radlett = sessions.rows[0];
  CHECK(radlett.at("id") == uuid(201));
  CHECK(radlett.at("station") == "Radlett");
  CHECK(radlett.at("started_at").rfind("2026-06-30T23:30:00", 0) == 0);
  CHECK(radlett.at("ended_at").rfind("2026-07-01T01:00:00", 0) == 0);
  CHECK(radlett.at("local_date") == "2026-07-01");
  CHECK(radlett.at("cards_distributed") == "40");
  CHECK(radlett.at("messages") == "vehicle_security;home_security");
  CHECK(radlett.at("recorded_by") == "coord.cat");
  const auto june = get_csv(server, "/api/v1/exports/commute_sessions.csv?to=2026-06-30", cat.token);
  REQUIRE(june.rows.size() == 1);
  CHECK(june.rows[0].at("id") == uuid(202));
  CHECK(june.rows[0].at("ended_at").empty());
  CHECK(get_csv(server, "/api/v1/exports/commute_sessions.csv", cat.token).rows.size() == 2);
  CHECK(test_support::http_get(server.port(), "/api/v1/exports/visits.csv?from=2026-7-1", cat.token).status == 400);
}

TEST_CASE("the RFC 4180 reader of these tests refuses what is not RFC 4180", "[e2e][api]") {
  // The export tests are only as strict as this reader: it must reject bare LF, a stray quote,
  // an unterminated last record, and keep what is quoted verbatim.
  CHECK_FALSE(parse_csv("a,b\nc,d\r\n").problem.empty());
  CHECK_FALSE(parse_csv("a,b\r\nc,d").problem.empty());
  CHECK_FALSE(parse_csv("a,b\"c\r\n").problem.empty());
  CHECK_FALSE(parse_csv("\"a\"b,c\r\n").problem.empty());
  CHECK_FALSE(parse_csv("\"a,b\r\n").problem.empty());
  const auto good = parse_csv("\"x, \"\"y\"\"\nz\",,'=1\r\n\r\n");
  REQUIRE(good.problem.empty());
  REQUIRE(good.rows.size() == 2);
  CHECK(good.rows[0] == std::vector<std::string>{"x, \"y\"\nz", "", "'=1"});
  CHECK(good.rows[1] == std::vector<std::string>{""});
}
