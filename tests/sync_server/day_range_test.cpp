// Ranges of local days over visits (issue 17): `records` has no index on local_day any more, so
// the dashboard's officer figures, "not visited since" and the visits CSV find candidates by
// visited_at bounds a day wider than the range at each end (store_impl.h) and then compare the
// local day. These put visits a minute either side of local midnight in the two zones furthest
// from UTC, where a bound that was too narrow would lose one.
#include <catch2/catch.hpp>

#include <string>

#include "store_fixture.h"
#include "sync_server/dashboard.h"

using namespace store_test;
using sync_server::Dashboard;

namespace {

// A fixed offset from UTC, in hours: +14 (Line Islands) and -12 (Baker Island) are the extremes.
StoreFixture::LocalDate offset_zone(int hours) {
  return [hours](UnixMillis instant) { return utc_date(instant + hours * kHour); };
}

std::size_t count_of(const std::string& text, const std::string& piece) {
  std::size_t count = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1)) ++count;
  return count;
}

struct Case {
  int hours;
  const char* last_minute;   // 23:59 local on 2026-06-01, in UTC
  const char* first_minute;  // 00:00 local on 2026-06-02
};

}  // namespace

TEST_CASE("a range of local days holds the visits at its ends, in the zones furthest from UTC", "[stats][dashboard]") {
  for (const Case& zone : {Case{14, "2026-06-01T09:59:00Z", "2026-06-01T10:00:00Z"},
                           Case{-12, "2026-06-02T11:59:00Z", "2026-06-02T12:00:00Z"}, Case{0, "2026-06-01T23:59:00Z", "2026-06-02T00:00:00Z"}}) {
    INFO("UTC offset " << zone.hours << " h");
    StoreFixture fixture(offset_zone(zone.hours));
    auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
    REQUIRE(fixture.push(coordinator, {upsert(uuid(1), target_household("Elstree", true, std::nullopt), hlc(1)),
                                       upsert(uuid(2), target_household("Elstree", true, std::nullopt), hlc(2)),
                                       upsert(uuid(11), visit(uuid(1), VisitStatus::completed, at(zone.last_minute)), hlc(3)),
                                       upsert(uuid(12), visit(uuid(2), VisitStatus::completed, at(zone.first_minute)), hlc(4))})
                .rejected.empty());
    Dashboard dashboard(fixture.store());
    const auto june_1 = date("2026-06-01"), june_2 = date("2026-06-02");

    // The officer figures: one visit on each day, two over both.
    CHECK(count_of(dashboard.activity_json({june_1, june_1}), "\"visits\":1,") == 1);
    CHECK(count_of(dashboard.activity_json({june_2, june_2}), "\"visits\":1,") == 1);
    CHECK(count_of(dashboard.activity_json({june_1, june_2}), "\"visits\":2,") == 1);
    CHECK(count_of(dashboard.activity_json({date("2026-05-31"), date("2026-05-31")}), "\"visits\":0,") == 1);

    // The visits CSV: the header and the one visit of the day.
    const std::string first_day = dashboard.visits_csv({june_1, june_1});
    CHECK(count_of(first_day, "\n") == 2);
    CHECK(count_of(first_day, uuid(11)) == 1);
    const std::string second_day = dashboard.visits_csv({june_2, june_2});
    CHECK(count_of(second_day, "\n") == 2);
    CHECK(count_of(second_day, uuid(12)) == 1);
    CHECK(count_of(dashboard.visits_csv({june_1, std::nullopt}), "\n") == 3);  // an open end
    CHECK(count_of(dashboard.visits_csv({std::nullopt, std::nullopt}), "\n") == 3);

    // Not visited since 2 June: household 1 (last completed visit on 1 June), not household 2.
    const std::string unvisited = dashboard.unvisited_json(std::nullopt, june_2);
    CHECK(count_of(unvisited, uuid(1)) == 1);
    CHECK(count_of(unvisited, uuid(2)) == 0);
    CHECK(count_of(dashboard.unvisited_json(std::nullopt, june_1), "\"id\"") == 0);
  }
}
