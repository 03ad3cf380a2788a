// A page's `remaining` (protocol.md §4.2): an estimate, for a progress bar, of the changes still
// to come in a pull; exact when nothing changes meanwhile, never negative, 0 on the last page,
// within the user's scope, and sent only when asked for.
#include <catch2/catch.hpp>

#include "store_fixture.h"

using namespace store_test;

namespace {

using Progress = ServerStore::Progress;

struct PageSeen {
  std::int64_t records = 0;
  bool has_more = false;
  std::optional<std::int64_t> remaining;
};

// Pulls every page from `cursor` as the server's session does: each continuing pull carries
// the estimate of the page before (counted down), unless `count_each` asks for a fresh count.
std::vector<PageSeen> pull_pages(ServerStore& store, const DeviceIdentity& device, int limit, bool count_each = false,
                                 std::string cursor = "",
                                 const std::function<void(std::size_t page)>& after_page = {}) {
  std::vector<PageSeen> pages;
  std::optional<std::int64_t> previous;
  for (int guard = 0; guard < 1000; ++guard) {
    auto page = store.pull(device, safer::Pull{cursor, limit}, ServerStore::Evictions::send,
                           Progress{true, count_each ? std::nullopt : previous});
    REQUIRE(page.ok());
    std::int64_t records = 0;
    for (const auto& change : page->changes) records += change.evict ? 0 : 1;
    pages.push_back({records, page->has_more, page->remaining});
    if (!page->has_more) return pages;
    cursor = page->cursor;
    previous = page->remaining;
    if (after_page) after_page(pages.size());
  }
  FAIL("pull never finished");
  return pages;
}

// Households 1..households assigned to `assignee`, each with `visits_each` visits.
void fill(StoreFixture& fixture, Device& coordinator, int households, int visits_each,
          const std::optional<std::string>& assignee,
          int first_number = 1) {
  std::vector<Change> changes;
  for (int h = 0; h < households; ++h) {
    const int number = first_number + h * (visits_each + 1);
    changes.push_back(upsert(uuid(number), target_household("Elstree", false, assignee), hlc(number)));
    for (int v = 1; v <= visits_each; ++v) changes.push_back(upsert(uuid(number + v), visit(uuid(number)), hlc(number + v)));
  }
  fixture.push(coordinator, changes);
}

// Every page's estimate is what the later pages then brought.
void check_exact(const std::vector<PageSeen>& pages) {
  std::int64_t later = 0;
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    INFO("page " << (pages.rend() - page));
    REQUIRE(page->remaining.has_value());
    CHECK(*page->remaining == later);
    later += page->records;
  }
}

}  // namespace

TEST_CASE("remaining is exact while nothing changes, at page boundaries and past them", "[pull][pull_progress]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  const auto ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer).identity;
  fill(fixture, coordinator, 3, 1, "officer.ann");  // 6 records in Ann's scope

  SECTION("pages that end exactly at the last record: the page before says how many, the last says 0") {
    for (const int limit : {1, 2, 3, 6}) {
      INFO("limit " << limit);
      const auto pages = pull_pages(fixture.store(), ann, limit);
      CHECK(static_cast<int>(pages.size()) == 6 / limit);
      check_exact(pages);
    }
  }
  SECTION("a last page that is not full") {
    for (const int limit : {4, 5, 7}) {
      INFO("limit " << limit);
      check_exact(pull_pages(fixture.store(), ann, limit));
    }
  }
  SECTION("counted down or counted afresh, the same figures") {
    const auto counted_down = pull_pages(fixture.store(), ann, 2);
    const auto counted = pull_pages(fixture.store(), ann, 2, true);
    REQUIRE(counted_down.size() == counted.size());
    for (std::size_t i = 0; i < counted.size(); ++i) CHECK(counted_down[i].remaining == counted[i].remaining);
  }
  SECTION("an incremental pull counts only what came after its cursor") {
    const auto [changes, cursor] = pull_all(fixture.store(), ann);
    CHECK(changes.size() == 6);
    fill(fixture, coordinator, 2, 1, "officer.ann", 100);
    const auto pages = pull_pages(fixture.store(), ann, 1, false, cursor);
    CHECK(pages.size() == 4);
    check_exact(pages);
  }
}

TEST_CASE("remaining is 0 for an empty scope, and absent unless asked for", "[pull][pull_progress]") {
  StoreFixture fixture;
  const auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator).identity;
  const auto ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer).identity;
  for (const auto& device : {coordinator, ann}) {
    const auto pages = pull_pages(fixture.store(), device, 10);
    REQUIRE(pages.size() == 1);
    CHECK(pages[0].remaining == std::optional<std::int64_t>(0));
  }
  auto writer = fixture.enroll("coord-2", "coord.dan", Role::coordinator);
  fill(fixture, writer, 2, 1, "officer.bob");
  const auto ann_pages = pull_pages(fixture.store(), ann, 1);  // others' records only: an empty scope
  REQUIRE(ann_pages.size() == 1);
  CHECK(ann_pages[0].remaining == std::optional<std::int64_t>(0));
  // A client that did not announce pull_progress gets the pages of protocol 1.
  const auto page = fixture.store().pull(coordinator, safer::Pull{"", 1});
  REQUIRE(page.ok());
  CHECK(page->has_more);
  CHECK_FALSE(page->remaining.has_value());
}

TEST_CASE("remaining counts the officer's scope only, and everything for a coordinator", "[pull][pull_progress]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  auto ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  auto bob = fixture.enroll("bob-tablet", "officer.bob", Role::officer);
  fill(fixture, coordinator, 2, 2, "officer.ann", 1);    // 6 of Ann's
  fill(fixture, coordinator, 3, 1, "officer.bob", 100);  // 6 of Bob's
  fill(fixture, coordinator, 1, 1, std::nullopt, 200);            // assigned to nobody, the coordinator's: nobody's scope
  // Ann's own: a household she created (assigned to nobody) with a visit of Bob's to it… which
  // Bob may not write; the coordinator's, then; and her commute session. Bob's session is not hers.
  fixture.push(ann, {upsert(uuid(300), household(), hlc(300)), upsert(uuid(302), session(), hlc(302))});
  fixture.push(coordinator, upsert(uuid(301), visit(uuid(300)), hlc(301)));
  fixture.push(bob, upsert(uuid(303), session("Radlett"), hlc(303)));

  // The first page counts the whole scope; counted afresh after each later page, the same.
  const auto first_remaining = [&](const DeviceIdentity& device) {
    const auto pages = pull_pages(fixture.store(), device, 1);
    check_exact(pages);
    check_exact(pull_pages(fixture.store(), device, 1, true));
    return pages.front().remaining.value_or(-1) + pages.front().records;
  };
  CHECK(first_remaining(ann.identity) == 6 + 3);
  CHECK(first_remaining(bob.identity) == 6 + 1);
  CHECK(first_remaining(coordinator.identity) == 6 + 6 + 2 + 3 + 1);
  // A household reassigned away from Ann leaves her count with its visits.
  fixture.push(coordinator, upsert(uuid(1), target_household("Elstree", false, "officer.bob"), hlc(400)));
  CHECK(first_remaining(ann.identity) == 6 - 3 + 3);
  CHECK(first_remaining(bob.identity) == 6 + 1 + 3);
}

TEST_CASE("changes arriving during a pull: the estimate never goes negative, is counted again when spent, and ends at 0",
          "[pull][pull_progress]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  const auto ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer).identity;
  fill(fixture, coordinator, 4, 1, "officer.ann");  // 8
  int next = 1000;
  // After each of the first pages, 3 more of Ann's records arrive (a household and 2 visits).
  const auto pages = pull_pages(fixture.store(), ann, 2, false, "", [&](std::size_t page) {
    if (page <= 3) {
      fill(fixture, coordinator, 1, 2, "officer.ann", next);
      next += 10;
    }
  });
  std::int64_t pulled = 0;
  for (const auto& page : pages) {
    REQUIRE(page.remaining.has_value());
    CHECK(*page.remaining >= 0);
    pulled += page.records;
  }
  CHECK(pulled == 8 + 3 * 3);
  CHECK(pages.back().remaining == std::optional<std::int64_t>(0));
  // Counted down from the first page's 6, the estimate ran out after three pages and was counted again.
  REQUIRE(pages.size() >= 5);
  CHECK(pages[0].remaining == std::optional<std::int64_t>(6));
  CHECK(pages[1].remaining == std::optional<std::int64_t>(4));
  CHECK(pages[2].remaining == std::optional<std::int64_t>(2));
  CHECK(*pages[3].remaining == 8 + 9 - 8);  // counted again: everything not yet sent
}

TEST_CASE("an estimate given as previous is counted down, and one too small is counted again", "[pull][pull_progress]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fill(fixture, coordinator, 5, 1, "officer.ann");  // 10
  auto first = fixture.store().pull(coordinator.identity, safer::Pull{"", 2}, ServerStore::Evictions::omit, Progress{true, {}});
  REQUIRE(first.ok());
  REQUIRE(first->remaining == std::optional<std::int64_t>(8));
  const auto next = [&](std::optional<std::int64_t> previous) {
    auto page = fixture.store().pull(coordinator.identity, safer::Pull{first->cursor, 2}, ServerStore::Evictions::omit,
                                     Progress{true, previous});
    REQUIRE(page.ok());
    return page->remaining;
  };
  CHECK(next(100) == std::optional<std::int64_t>(98));  // trusted: an estimate, not checked
  CHECK(next(3) == std::optional<std::int64_t>(1));
  CHECK(next(2) == std::optional<std::int64_t>(6));  // spent by this page: counted again
  CHECK(next(0) == std::optional<std::int64_t>(6));
  CHECK(next(std::nullopt) == std::optional<std::int64_t>(6));
}
