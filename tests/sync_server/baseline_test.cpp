// The historic baseline (sync_server/baseline.h): its CSV's checks, loading it whole, and the
// annual report's history of every year since the first, on both backends.
#include <catch2/catch.hpp>

#include "audit_entries.h"
#include "json_checks.h"
#include "store_fixture.h"
#include "sync_server/baseline.h"
#include "sync_server/dashboard.h"

using namespace store_test;
using sync_server::BaselineYear;
using sync_server::Dashboard;
using sync_server::parse_baseline_csv;

namespace {

const std::string kHeader = "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed\n";
const sync_server::Actor kCoordinator{"coord.cat", "dashboard", "192.0.2.30"};

// The problems' lines and messages, one "L: message" each.
std::vector<std::string> problems(const std::string& csv) {
  std::vector<std::string> out;
  for (const auto& problem : parse_baseline_csv(csv).problems) {
    out.push_back(std::to_string(problem.line) + ": " + problem.message);
  }
  return out;
}

}  // namespace

TEST_CASE("the baseline CSV takes a year as 2011 or 2011/12 and whole numbers", "[baseline]") {
  const auto parsed = parse_baseline_csv("\xEF\xBB\xBF" + kHeader + "2011/12,310,420,95,0\r\n\r\n2012,350,480,120,400\n");
  REQUIRE(parsed.problems.empty());
  REQUIRE(parsed.years.size() == 2);
  CHECK(parsed.years[0] == BaselineYear{2011, 310, 420, 95, 0});
  CHECK(parsed.years[1] == BaselineYear{2012, 350, 480, 120, 400});
  CHECK(parse_baseline_csv(kHeader).years.empty());  // a header alone empties the baseline
  CHECK(parse_baseline_csv(kHeader).problems.empty());
}

TEST_CASE("a wrong baseline line is named with its line and column", "[baseline]") {
  CHECK(problems("") == std::vector<std::string>{
                           "1: the first line must be the header "
                           "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed"});
  CHECK(problems("year,visits\n2011,3\n").size() == 1);
  CHECK(problems(kHeader + "2011/13,1,1,1,1\n") ==
        std::vector<std::string>{"2: financial_year must be a year from 1990 to 2100, as 2011 or 2011/12"});
  CHECK(problems(kHeader + "11,1,1,1,1\n").size() == 1);
  CHECK(problems(kHeader + "1989,1,1,1,1\n").size() == 1);
  CHECK(problems(kHeader + "2011,1,1,1,1\n2011/12,2,2,2,2\n") ==
        std::vector<std::string>{"3: financial_year 2011 appears on an earlier line too"});
  CHECK(problems(kHeader + "2011,-1,1,1,1\n") ==
        std::vector<std::string>{"2: households_visited must be a whole number from 0 to 10000000"});
  CHECK(problems(kHeader + "2011,1,1.5,1,1\n") ==
        std::vector<std::string>{"2: visits must be a whole number from 0 to 10000000"});
  CHECK(problems(kHeader + "2011,1,1,10000001,1\n") ==
        std::vector<std::string>{"2: smoke_detectors_fitted must be a whole number from 0 to 10000000"});
  CHECK(problems(kHeader + "2011,1,1,1,\n") ==
        std::vector<std::string>{"2: cards_distributed must be a whole number from 0 to 10000000"});
  CHECK(problems(kHeader + "2011,1,1,1\n") ==
        std::vector<std::string>{"2: expected 5 cells (financial_year,households_visited,visits,smoke_detectors_fitted,"
                                 "cards_distributed), found 4"});
  CHECK(problems(kHeader + "\"2011\",1,1,1,1\n").size() == 1);
  // Every wrong line is listed, not only the first.
  CHECK(problems(kHeader + "2011,x,1,1,1\n2012,1,1,1,1\n2013,1,1,1,y\n").size() == 2);
  std::string many = kHeader;
  for (int year = 1990; year <= 2090; ++year) many += std::to_string(year) + ",1,1,1,1\n";
  CHECK(problems(many) == std::vector<std::string>{"102: at most 100 years"});
}

TEST_CASE("a baseline is loaded whole, replaces the one before, and is audited", "[baseline]") {
  StoreFixture fixture;
  Dashboard dashboard(fixture.store());
  REQUIRE(dashboard.load_baseline(kHeader + "2011,310,420,95,0\n2012,350,480,120,400\n", kCoordinator).ok());
  CHECK(dashboard.baseline() == std::vector<BaselineYear>{{2011, 310, 420, 95, 0}, {2012, 350, 480, 120, 400}});

  const auto refused = dashboard.load_baseline(kHeader + "2013,1,1,1,1\n2014,1,x,1,1\n", kCoordinator);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid");
  CHECK(refused.error().message == "nothing was loaded; 1 problem(s):\nline 3: visits must be a whole number from 0 to 10000000");
  CHECK(dashboard.baseline().size() == 2);  // nothing half-written

  REQUIRE(dashboard.load_baseline(kHeader + "2013,1,2,3,4\n", kCoordinator).ok());
  CHECK(dashboard.baseline() == std::vector<BaselineYear>{{2013, 1, 2, 3, 4}});
  const auto entries = entries_of(fixture.store(), sync_server::kAuditBaselineLoad);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].entry.detail == "years=1");
  CHECK(entries[0].entry.actor.name == "coord.cat");

  fixture.reopen();
  CHECK(Dashboard(fixture.store()).baseline() == std::vector<BaselineYear>{{2013, 1, 2, 3, 4}});
}

TEST_CASE("the report's history adds the baseline to the years recorded, up to the report's year", "[baseline]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Dashboard dashboard(fixture.store());
  // Recorded: 2025/26 (household 1 twice, 2 once; one card session) and 2026/27 (household 1).
  Visit fitted = visit(uuid(1), VisitStatus::completed, at("2025-06-01T10:00:00Z"));
  fitted.smoke_detectors_fitted = 2;
  REQUIRE(fixture
              .push(coordinator, {upsert(uuid(1), household("Elstree"), hlc(1)), upsert(uuid(2), household("Shenley"), hlc(2)),
                                  upsert(uuid(11), fitted, hlc(3)),
                                  upsert(uuid(12), visit(uuid(1), VisitStatus::completed, at("2025-07-01T10:00:00Z")), hlc(4)),
                                  upsert(uuid(13), visit(uuid(2), VisitStatus::completed, at("2026-01-05T10:00:00Z")), hlc(5)),
                                  upsert(uuid(14), visit(uuid(2), VisitStatus::no_answer, at("2026-02-05T10:00:00Z")), hlc(6)),
                                  upsert(uuid(15), visit(uuid(1), VisitStatus::completed, at("2026-05-05T10:00:00Z")), hlc(7)),
                                  upsert(uuid(21), session("Radlett", 30, at("2025-09-01T07:00:00Z")), hlc(8))})
              .rejected.empty());
  // The baseline: two years before the system, and the months of 2025/26 before it went live.
  REQUIRE(dashboard.load_baseline(kHeader + "2011/12,300,400,90,0\n2013/14,100,150,20,50\n2025/26,10,12,3,5\n", kCoordinator).ok());

  const auto report = test_support::parse_object(dashboard.report_json(2026));
  const auto& history = report["history"];
  const auto& years = history["years"];
  REQUIRE(years.Size() == 4);  // 2012/13 had nothing, so it is left out
  const auto row = [&](rapidjson::SizeType i) {
    const auto& year = years[i];
    return std::vector<std::string>{year["financial_year"].GetString(), year["source"].GetString(),
                                    std::to_string(year["households_visited"].GetInt64()),
                                    std::to_string(year["visits"].GetInt64()),
                                    std::to_string(year["smoke_detectors_fitted"].GetInt64()),
                                    std::to_string(year["cards_distributed"].GetInt64())};
  };
  CHECK(row(0) == std::vector<std::string>{"2011/12", "baseline", "300", "400", "90", "0"});
  CHECK(row(1) == std::vector<std::string>{"2013/14", "baseline", "100", "150", "20", "50"});
  CHECK(row(2) == std::vector<std::string>{"2025/26", "both", "12", "15", "5", "35"});
  CHECK(row(3) == std::vector<std::string>{"2026/27", "recorded", "1", "1", "0", "0"});
  const auto& since = history["since"];
  CHECK(std::string(since["financial_year"].GetString()) == "2011/12");
  CHECK(since["households_visited_year_by_year"].GetInt64() == 413);
  CHECK(since["visits"].GetInt64() == 566);
  CHECK(since["smoke_detectors_fitted"].GetInt64() == 115);
  CHECK(since["cards_distributed"].GetInt64() == 85);

  // An earlier report stops at its own year.
  const auto earlier = test_support::parse_object(dashboard.report_json(2013));
  CHECK(earlier["history"]["years"].Size() == 2);
  CHECK(earlier["history"]["since"]["visits"].GetInt64() == 550);
}

TEST_CASE("with no baseline and no records the report's history is empty", "[baseline]") {
  StoreFixture empty;
  const auto none = test_support::parse_object(Dashboard(empty.store()).report_json(2026));
  CHECK(none["history"]["years"].Size() == 0);
  CHECK(none["history"]["since"]["financial_year"].IsNull());
  CHECK(none["history"]["since"]["visits"].GetInt64() == 0);
}
