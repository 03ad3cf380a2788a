// follow_up_due and rescheduled_for (protocol.md §5.2): valid dates, only under their
// condition, required of a writer that announced "work_dates" and optional from the others.
#include <catch2/catch.hpp>

#include "only_error.h"
#include "safer/record_json.h"
#include "safer/validation.h"

using namespace safer;

namespace {

constexpr WriterRules kDates{.share_basis = false, .work_dates = true};

Visit follow_up(std::optional<std::string> due) {
  Visit visit;
  visit.household_id = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
  visit.visited_at = 1'795'685'400'000;
  visit.outcomes.insert(Outcome::follow_up_required);
  visit.follow_up_due = std::move(due);
  return visit;
}

Visit rescheduled(std::optional<std::string> when) {
  Visit visit = follow_up(std::nullopt);
  visit.outcomes = {};
  visit.status = VisitStatus::rescheduled;
  visit.rescheduled_for = std::move(when);
  return visit;
}

}  // namespace

TEST_CASE("local date-times are YYYY-MM-DDTHH:MM on a real day", "[time][work_dates]") {
  const auto parsed = parse_local_datetime("2026-12-18T14:30");
  REQUIRE(parsed);
  CHECK(parsed->date == CivilDate{2026, 12, 18});
  CHECK(parsed->hour == 14);
  CHECK(parsed->minute == 30);
  CHECK(parse_local_datetime("2028-02-29T00:00"));
  CHECK(parse_local_datetime("2026-12-31T23:59"));
  for (const char* bad : {"2026-02-29T10:00", "2026-12-18T24:00", "2026-12-18T10:60", "2026-12-18 10:00",
                          "2026-12-18t10:00", "2026-12-18T10:00:00", "2026-12-18T10:00Z", "2026-12-18T9:00",
                          "2026-12-18", "", "2026-13-01T10:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_local_datetime(bad));
  }
}

TEST_CASE("follow_up_due is a real date, only with a follow-up", "[validation][work_dates]") {
  const auto& lists = ReferenceLists::defaults();
  for (const auto rules : {WriterRules::protocol1(), kDates}) {
    CHECK(check_visit(follow_up("2026-12-18"), lists, rules).empty());
    CHECK(check_visit(follow_up("2028-02-29"), lists, rules).empty());
    for (const char* bad : {"2026-02-29", "2026-12-32", "18/12/2026", "2026-12-18T10:00", "", "2026-1-18"}) {
      INFO(bad);
      const auto error = only_error(check_visit(follow_up(bad), lists, rules), "follow_up_due");
      CHECK(error.message == "follow_up_due must be a date written YYYY-MM-DD, such as 2026-12-18");
    }
    // Without a follow-up, whatever the status.
    Visit no_follow_up = follow_up("2026-12-18");
    no_follow_up.outcomes = {};
    CHECK(only_error(check_visit(no_follow_up, lists, rules), "follow_up_due").message ==
          "follow_up_due must be left out when follow_up_required is false");
    no_follow_up.follow_up_due.reset();
    CHECK(check_visit(no_follow_up, lists, rules).empty());
  }
}

TEST_CASE("follow_up_due is required of a writer that announced work_dates", "[validation][work_dates]") {
  const auto& lists = ReferenceLists::defaults();
  CHECK(check_visit(follow_up(std::nullopt), lists).empty());
  CHECK(check_visit(follow_up(std::nullopt), lists, WriterRules{.share_basis = true}).empty());
  const auto error = only_error(check_visit(follow_up(std::nullopt), lists, kDates), "follow_up_due");
  CHECK(error.message == "follow_up_due is required with a follow-up: the date it is due, YYYY-MM-DD");
  RecordData data = follow_up(std::nullopt);
  CHECK(check_record(data, lists, WriterRules::all()).size() == 1);
  CHECK(check_record(data, lists).empty());
}

TEST_CASE("rescheduled_for is a local date-time, only when status is rescheduled", "[validation][work_dates]") {
  const auto& lists = ReferenceLists::defaults();
  CHECK(check_visit(rescheduled("2026-12-18T14:30"), lists, kDates).empty());
  CHECK(check_visit(rescheduled(std::nullopt), lists).empty());
  CHECK(only_error(check_visit(rescheduled(std::nullopt), lists, kDates), "rescheduled_for").message ==
        "rescheduled_for is required when status is rescheduled: the agreed local time, YYYY-MM-DDTHH:MM");
  for (const char* bad : {"2026-12-18", "2026-12-18T14:30Z", "2026-12-18T14:30:00", "2026-02-30T10:00",
                          "2026-12-18T25:00"}) {
    INFO(bad);
    CHECK(only_error(check_visit(rescheduled(bad), lists), "rescheduled_for").message ==
          "rescheduled_for must be a local date and time written YYYY-MM-DDTHH:MM, such as 2026-12-18T14:30");
  }
  for (const auto status : {VisitStatus::completed, VisitStatus::no_answer, VisitStatus::declined}) {
    Visit visit = rescheduled("2026-12-18T14:30");
    visit.status = status;
    INFO(to_string(status));
    CHECK(only_error(check_visit(visit, lists, kDates), "rescheduled_for").message ==
          "rescheduled_for must be left out when status is " + std::string(to_string(status)));
  }
}

TEST_CASE("the work dates go through JSON when present and are left out when not", "[record_json][work_dates]") {
  Visit visit = follow_up("2026-12-18");
  const auto json = to_json(visit);
  CHECK_THAT(json, Catch::Contains(R"("follow_up_due":"2026-12-18")"));
  CHECK_THAT(json, !Catch::Contains("rescheduled_for"));
  Visit back;
  REQUIRE(from_json(json, back).empty());
  CHECK(back == visit);

  Visit later = rescheduled("2026-12-18T14:30");
  Visit later_back;
  REQUIRE(from_json(to_json(later), later_back).empty());
  CHECK(later_back.rescheduled_for == "2026-12-18T14:30");
  CHECK_FALSE(later_back.follow_up_due);

  // Not strings: refused when decoded, naming the field.
  for (const char* text :
       {R"({"household_id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b","visited_at":"2026-11-26T09:30:00Z","status":"completed","follow_up_due":null})",
        R"({"household_id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b","visited_at":"2026-11-26T09:30:00Z","status":"rescheduled","rescheduled_for":20261218})"}) {
    Visit out;
    const auto errors = from_json(text, out);
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0].field, Catch::Matches("follow_up_due|rescheduled_for"));
  }
}
