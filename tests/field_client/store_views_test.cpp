// The tablet app's lists come from indexed columns that every write keeps: local writes and
// pulled pages alike must give the right last visit and follow-up state.
#include <catch2/catch.hpp>

#include <cstdio>
#include <set>

#include "field_client/store.h"
#include "temp_dir.h"

namespace {

using field_client::Store;

safer::Household household(const std::string& address, const char* postcode, std::optional<std::string> assignee) {
  safer::Household h;
  h.address = address;
  h.postcode = postcode;
  h.ward = "Elstree";
  if (assignee) h.assigned_to = std::optional<std::string>(*assignee);
  return h;
}

safer::Visit visit(const std::string& household_id, safer::UnixMillis at, safer::VisitStatus status, bool follow_up) {
  safer::Visit v;
  v.household_id = household_id;
  v.visited_at = at;
  v.status = status;
  if (follow_up) {
    v.outcomes.insert(safer::Outcome::follow_up_required);
    v.follow_up_due = "2026-12-18";
  }
  return v;
}

// A store on a file in `dir` that has heard the server's welcome for officer.ann.
std::unique_ptr<Store> officer_store(const test_support::TempDir& dir) {
  auto opened = Store::open(dir.file("tablet.db"));
  REQUIRE(opened.ok());
  safer::Welcome welcome;
  welcome.user_id = "officer.ann";
  welcome.role = safer::Role::officer;
  welcome.wards = safer::ReferenceLists::defaults().wards;
  welcome.stations = safer::ReferenceLists::defaults().stations;
  REQUIRE((*opened)->apply_welcome(welcome, 0).ok());
  return std::move(*opened);
}

}  // namespace

TEST_CASE("the household list shows the last visit and whether a follow-up is owed", "[store][views]") {
  test_support::TempDir dir;
  const auto opened = officer_store(dir);
  auto& store = *opened;

  // Two households pulled from the server (one assigned to this user), one made here.
  const std::string assigned = "0192f5e4-0000-7000-8000-000000000001";
  const std::string other = "0192f5e4-0000-7000-8000-000000000002";
  safer::ChangesPage page;
  page.cursor = "c";
  page.changes.push_back({{safer::Entity::household, safer::Op::upsert, other, {1, 0}, household("2 Zed Road", "WD6 2AB", "officer.bob")}, "server"});
  page.changes.push_back({{safer::Entity::household, safer::Op::upsert, assigned, {1, 1}, household("9 Ýew Row", "WD6 1AB", "officer.ann")}, "server"});
  // A pulled visit needing a follow-up, to the assigned household.
  page.changes.push_back({{safer::Entity::visit, safer::Op::upsert, "0192f5e4-0000-7000-8000-00000000000a", {1, 2},
                           visit(assigned, 1'764'000'000'000, safer::VisitStatus::completed, true)}, "other-tablet"});
  REQUIRE(store.apply_page(page).ok());
  const auto mine = store.create(household("5 Found Lane", "WD6 5AB", std::nullopt));
  REQUIRE(mine.ok());

  auto list = store.households("", 100).value();
  REQUIRE(list.size() == 3);
  CHECK(list[0].mine);  // the user's own first, by address
  CHECK(list[1].mine);
  CHECK_FALSE(list[2].mine);
  CHECK(list[2].record.id == other);
  const auto& first = list[0].record.id == assigned ? list[0] : list[1];
  REQUIRE(first.last_visit);
  CHECK(first.follow_up_outstanding);

  SECTION("an earlier completed visit does not settle the follow-up, a later one does") {
    REQUIRE(store.create(visit(assigned, 1'763'000'000'000, safer::VisitStatus::completed, false)).ok());
    CHECK(store.households("ýew", 100)->front().follow_up_outstanding);
    REQUIRE(store.create(visit(assigned, 1'765'000'000'000, safer::VisitStatus::no_answer, false)).ok());
    CHECK(store.households("ÝEW", 100)->front().follow_up_outstanding);  // no answer is not a visit done
    const auto settled = store.create(visit(assigned, 1'766'000'000'000, safer::VisitStatus::completed, false));
    REQUIRE(settled.ok());
    const auto view = store.households("wd61ab", 100)->front();  // postcode without its space
    CHECK_FALSE(view.follow_up_outstanding);
    REQUIRE(view.last_visit);
    CHECK(view.last_visit->id == *settled);
    CHECK(store.visits_to(assigned)->size() == 4);
    CHECK(store.visits_to(assigned)->front().id == *settled);  // newest first
  }
  SECTION("a deleted visit no longer counts") {
    REQUIRE(store.remove(safer::Entity::visit, "0192f5e4-0000-7000-8000-00000000000a").ok());
    const auto view = store.households("yew", 100).value();
    CHECK(view.empty());  // "ý" folds to itself, not to "y": no match without the accent
    const auto again = store.households("9 Ý", 100)->front();
    CHECK_FALSE(again.follow_up_outstanding);
    CHECK_FALSE(again.last_visit);
  }
}


// Why: the tablet's list used to stop at 500 without a word, and a household past that showed
// "not found". Every household must be reachable a page at a time, and by its id.
TEST_CASE("the household list pages through every household, counts them, and finds any by id", "[store][views]") {
  test_support::TempDir dir;
  const auto opened = officer_store(dir);
  auto& store = *opened;

  constexpr int kHouseholds = 620;
  safer::ChangesPage page;
  page.cursor = "c";
  for (int n = 0; n < kHouseholds; ++n) {
    char id[40];
    std::snprintf(id, sizeof id, "0192f5e4-0000-7000-8000-%012d", n);
    const std::string address = std::to_string(n) + " Paging Street";
    page.changes.push_back({{safer::Entity::household, safer::Op::upsert, id, {1, static_cast<std::uint32_t>(n)},
                             household(address, n % 2 == 0 ? "WD6 1AB" : "EN6 2DD", n % 10 == 0 ? "officer.ann" : "officer.bob")},
                            "server"});
  }
  REQUIRE(store.apply_page(page).ok());

  CHECK(store.count_households("").value() == kHouseholds);
  std::set<std::string> seen;
  bool mine_then_others = true;
  bool others_started = false;
  for (std::size_t offset = 0; offset < kHouseholds + 100; offset += 100) {
    const auto page_of_views = store.households("", 100, offset).value();
    for (const auto& view : page_of_views) {
      seen.insert(view.record.id);
      if (!view.mine) others_started = true;
      if (view.mine && others_started) mine_then_others = false;
    }
  }
  CHECK(seen.size() == kHouseholds);  // every one, each once
  CHECK(mine_then_others);
  CHECK(store.households("", 100, kHouseholds).value().empty());

  // A search counts and pages the same way.
  CHECK(store.count_households("en62dd").value() == kHouseholds / 2);
  CHECK(store.households("en62dd", 500, 0)->size() == kHouseholds / 2);
  CHECK(store.households("en62dd", 200, 300)->size() == kHouseholds / 2 - 300);

  // The last household in the list's order is found by id, as any other.
  const auto last = store.households("", 1, kHouseholds - 1).value();
  REQUIRE(last.size() == 1);
  const auto found = store.household_view(last.front().record.id);
  REQUIRE(found.ok());
  CHECK(std::get<safer::Household>(*found->record.data).address ==
        std::get<safer::Household>(*last.front().record.data).address);
  const auto missing = store.household_view("0192f5e4-0000-7000-8000-999999999999");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");
}

// The Today page starts with what is due: a household's latest visit decides, so a follow-up
// done (or any later visit) must leave the list, and one due tomorrow must not join it yet.
TEST_CASE("work due lists follow-ups and reschedules due by today on each household's latest visit", "[store][views][work_dates]") {
  test_support::TempDir dir;
  const auto opened = officer_store(dir);
  auto& store = *opened;
  const auto made = [&](const char* address) { return store.create(household(address, "WD6 1AB", std::nullopt)).value(); };
  const std::string late = made("1 Late Lane"), today = made("2 Today Terrace"), later = made("3 Later Road"),
                    agreed = made("4 Agreed Avenue");
  auto follow_up = [](const std::string& id, safer::UnixMillis at, const char* due) {
    auto v = visit(id, at, safer::VisitStatus::completed, true);
    v.follow_up_due = due;
    return v;
  };
  const auto late_visit = store.create(follow_up(late, 1'764'000'000'000, "2026-12-03")).value();
  const auto today_visit = store.create(follow_up(today, 1'764'000'000'000, "2026-12-04")).value();
  REQUIRE(store.create(follow_up(later, 1'764'000'000'000, "2026-12-05")).ok());
  auto rescheduled = visit(agreed, 1'764'000'000'000, safer::VisitStatus::rescheduled, false);
  rescheduled.rescheduled_for = "2026-12-04T18:30";
  REQUIRE(store.create(rescheduled).ok());

  const auto listed = store.work_due("2026-12-04").value();
  CHECK_FALSE(listed.more);
  auto due = listed.work;
  REQUIRE(due.size() == 3);
  CHECK(due[0].household.record.id == late);  // oldest first
  CHECK(due[0].visit_id == late_visit);
  CHECK(due[0].overdue);
  CHECK(due[0].follow_up);
  CHECK(due[0].due == "2026-12-03");
  CHECK(std::get<safer::Household>(*due[0].household.record.data).address == "1 Late Lane");
  CHECK(due[1].household.record.id == today);
  CHECK_FALSE(due[1].overdue);
  CHECK(due[2].household.record.id == agreed);
  CHECK_FALSE(due[2].follow_up);
  CHECK(due[2].due == "2026-12-04T18:30");
  CHECK_FALSE(due[2].overdue);

  // Cut to the oldest, it says there is more; exactly as many as due is not cut.
  const auto cut = store.work_due("2026-12-04", 2).value();
  CHECK(cut.more);
  REQUIRE(cut.work.size() == 2);
  CHECK(cut.work[1].household.record.id == today);
  CHECK_FALSE(store.work_due("2026-12-04", 3)->more);

  // A day later everything is overdue and the next follow-up is due.
  due = store.work_due("2026-12-05")->work;
  REQUIRE(due.size() == 4);
  CHECK(due[3].household.record.id == later);
  CHECK(due[2].overdue);

  // An earlier visit supersedes nothing; a later one of any status supersedes the follow-up.
  REQUIRE(store.create(visit(late, 1'763'000'000'000, safer::VisitStatus::completed, false)).ok());
  CHECK(store.work_due("2026-12-04")->work.size() == 3);
  REQUIRE(store.create(visit(late, 1'765'000'000'000, safer::VisitStatus::no_answer, false)).ok());
  due = store.work_due("2026-12-04")->work;
  REQUIRE(due.size() == 2);
  CHECK(due[0].household.record.id == today);
  // A deleted visit asks for nothing.
  REQUIRE(store.remove(safer::Entity::visit, today_visit).ok());
  CHECK(store.work_due("2026-12-04")->work.size() == 1);
}
