// docs/api.md "Exports": an export is read a page at a time and sent from a staged file, so a
// large one comes out whole and in order, and the server's memory does not grow with its size.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace api_test;

// Pushes visits `first` … `first + count - 1` to household 1, 1000 to a push; visit n is at
// `visited_at(n)` with `note` as its notes.
template <class VisitedAt>
void push_visits(Device& device, int first, int count, VisitedAt&& visited_at, const std::string& note) {
  for (int start = first; start < first + count; start += 1000) {
    std::string changes;
    const int end = std::min(first + count, start + 1000);
    for (int n = start; n < end; ++n) {
      ++device.seq;
      changes += (changes.empty() ? "" : ",") + std::string(R"({"seq":)") + std::to_string(device.seq) +
                 R"(,"entity":"visit","op":"upsert","id":")" + uuid(n) + R"(","hlc":")" + contract_test::next_hlc() +
                 R"(","data":)" + visit(1, visited_at(n), "completed", R"(,"notes":)" + json_string(note)) + "}";
    }
    const auto ack = parse(device.client->request(R"({"type":"push","changes":[)" + changes + "]}"));
    REQUIRE(at(ack, {"acked_seq"}) == device.seq);
    REQUIRE(ack["rejected"].Empty());
  }
}

// The peak resident memory of process `pid` (VmHWM), in KiB.
long peak_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  FAIL("no VmHWM in /proc/" << pid << "/status");
  return 0;
}

// The "id" and "notes" cells of each data row of a CSV whose notes hold no comma, quote or
// line break (the rows of push_visits).
std::vector<std::pair<std::string, std::string>> ids_and_notes(const std::string& csv) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t at = csv.find("\r\n") + 2;  // after the header
  while (at < csv.size()) {
    const auto end = csv.find("\r\n", at);
    REQUIRE(end != std::string::npos);
    std::vector<std::string> cells;
    for (std::size_t cell = at; cell <= end;) {
      const auto comma = std::min(csv.find(',', cell), end);
      cells.push_back(csv.substr(cell, comma - cell));
      cell = comma + 1;
    }
    REQUIRE(cells.size() == 25);  // 22 fixed columns and a new server's 3 questions (docs/api.md)
    rows.emplace_back(cells[0], cells[20]);  // "notes", the last but one of the fixed columns
    at = end + 2;
  }
  return rows;
}

}  // namespace

TEST_CASE("an export of many visits, over many pages and pieces, holds every row once and in order",
          "[e2e][api][exports]") {
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true, "wd6 1wa", "officer.ann"));
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  // 2,600 visits in blocks of 700 at the same minute: ties that straddle the 1,000-row pages,
  // pushed out of order (the later block first).
  const auto minute = [](int n) { return "2026-11-10T10:0" + std::to_string((n - 1) / 700) + ":00Z"; };
  const std::string note = std::string(120, 'n');
  push_visits(ann, 1401, 1200, minute, note);
  push_visits(ann, 1, 1400, minute, note);

  const auto reply = test_support::http_get(server.port(), "/api/v1/exports/visits.csv", cat.token);
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/csv; charset=utf-8");
  CHECK(reply.header("content-length") == std::to_string(reply.body.size()));
  CHECK(reply.body.size() > 4 * 64 * 1024);  // several pieces
  const auto rows = ids_and_notes(reply.body);
  REQUIRE(rows.size() == 2600);
  for (int n = 1; n <= 2600; ++n) {
    INFO("row " << n);
    REQUIRE(rows[n - 1].first == uuid(n));
    REQUIRE(rows[n - 1].second == note);
  }
  // A range that starts and ends inside pages: local dates select as before.
  const auto none = test_support::http_get(server.port(), "/api/v1/exports/visits.csv?from=2026-11-11", cat.token);
  CHECK(ids_and_notes(none.body).empty());
}

TEST_CASE("the server's peak memory does not grow with the size of an export", "[e2e][api][exports][memory]") {
  // 100,000 visits with 300-byte notes: a 40 MB export. Built whole in memory, as it once was,
  // it raised the server's peak resident memory by more than the export's size.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household("1 Elm Road", "Elstree", true, "wd6 1wa", "officer.ann"));
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  const auto day = [](int n) {
    char at[32];
    std::snprintf(at, sizeof at, "2026-%02d-%02dT%02d:%02d:00Z", 1 + n % 11, 1 + n % 28, n % 24, n % 60);
    return std::string(at);
  };
  push_visits(ann, 1, 100'000, day, std::string(300, 'v'));

  const long before = peak_kib(server.pid());
  const auto reply = test_support::http_get(server.port(), "/api/v1/exports/visits.csv", cat.token,
                                            std::chrono::seconds(300));
  const long after = peak_kib(server.pid());
  INFO(server.log().substr(server.log().size() > 2000 ? server.log().size() - 2000 : 0));
  REQUIRE(reply.status == 200);
  CHECK(std::count(reply.body.begin(), reply.body.end(), '\n') == 100'001);  // the header and every visit
  INFO("export " << reply.body.size() / 1024 << " KiB; server peak " << before << " KiB before, " << after << " after");
  REQUIRE(reply.body.size() > 40'000'000);
  CHECK(after - before < 16 * 1024);
}
