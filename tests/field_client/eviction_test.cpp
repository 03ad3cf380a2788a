// A pulled eviction (protocol.md §4.6): the household and its visits leave the device at once,
// except records with a change still to sync, which go when it is acked or rejected (the
// rejection stays, without the record's data).
#include <catch2/catch.hpp>

#include "field_client/store.h"
#include "pulled_changes.h"
#include "raw_bytes.h"
#include "temp_dir.h"

namespace {

using field_client::Store;
using safer::Entity;

constexpr const char* kHousehold = "0192f5e4-0000-7000-8000-0000000000a1";
constexpr const char* kOtherHousehold = "0192f5e4-0000-7000-8000-0000000000a2";
constexpr const char* kSyncedVisit = "0192f5e4-0000-7000-8000-0000000000b1";

safer::Household household() {
  safer::Household record;
  record.address = "5 Fictional Gardens";
  record.postcode = "EN6 1AA";
  record.ward = "Potters Bar Oakmere";
  record.target = true;
  record.assigned_to = std::optional<std::string>("officer.ann");
  return record;
}

safer::Visit visit(const std::string& household_id) {
  safer::Visit record;
  record.household_id = household_id;
  record.visited_at = 1'764'149'400'000;
  record.status = safer::VisitStatus::no_answer;
  record.notes = "fictional note";
  return record;
}

safer::PulledChange upsert(Entity entity, const std::string& id, safer::RecordData data) {
  safer::PulledChange pulled;
  pulled.change = {entity, safer::Op::upsert, id, safer::Hlc{1'764'149'400'000, 1}, std::move(data)};
  pulled.device_id = "server-side";
  return pulled;
}

using test_support::eviction;

bool holds(const Store& store, Entity entity, const std::string& id) { return store.get(entity, id).ok(); }

// A store holding two households from the server, a visit pulled to the first, and the
// officer's own visit to it (unsynced until `ack`).
struct Tablet {
  test_support::TempDir dir;
  std::unique_ptr<Store> store = Store::open(dir.file("tablet.db")).value();
  std::string own_visit;

  Tablet() {
    safer::ChangesPage page;
    page.changes = {upsert(Entity::household, kHousehold, household()), upsert(Entity::household, kOtherHousehold, household()),
                    upsert(Entity::visit, kSyncedVisit, visit(kHousehold))};
    page.cursor = "c.1";
    REQUIRE(store->apply_page(page).ok());
    auto created = store->create(visit(kHousehold));
    REQUIRE(created.ok());
    own_visit = *created;
  }

  void evict(const std::string& household_id) {
    safer::ChangesPage page;
    page.changes = {eviction(household_id)};
    page.cursor = "c.2";
    REQUIRE(store->apply_page(page).ok());
  }
};

}  // namespace

TEST_CASE("an eviction drops the household and its synced visits, and nothing else", "[store][evict]") {
  Tablet tablet;
  REQUIRE(tablet.store->apply_ack({1, {}}).ok());  // the officer's visit is synced
  tablet.evict(kHousehold);
  CHECK_FALSE(holds(*tablet.store, Entity::household, kHousehold));
  CHECK_FALSE(holds(*tablet.store, Entity::visit, kSyncedVisit));
  CHECK_FALSE(holds(*tablet.store, Entity::visit, tablet.own_visit));  // the user's own, synced
  CHECK(holds(*tablet.store, Entity::household, kOtherHousehold));
  CHECK(tablet.store->cursor().value() == "c.2");
  // An eviction of a household the device does not hold changes nothing.
  tablet.evict("0192f5e4-0000-7000-8000-0000000000ff");
  CHECK(holds(*tablet.store, Entity::household, kOtherHousehold));
}

TEST_CASE("a record with an unsynced change stays until the change is acked or rejected", "[store][evict]") {
  // Eviction must not lose an unsynced change, and a refused one must not pin the record's
  // personal data on the tablet once its household left the user's scope.
  Tablet tablet;
  tablet.evict(kHousehold);
  // The pending visit stays, and so does its household; the synced visit goes at once.
  CHECK(holds(*tablet.store, Entity::visit, tablet.own_visit));
  CHECK(holds(*tablet.store, Entity::household, kHousehold));
  CHECK_FALSE(holds(*tablet.store, Entity::visit, kSyncedVisit));

  SECTION("acked: it goes") {
    REQUIRE(tablet.store->apply_ack({1, {}}).ok());
    CHECK_FALSE(holds(*tablet.store, Entity::visit, tablet.own_visit));
    CHECK_FALSE(holds(*tablet.store, Entity::household, kHousehold));
  }
  SECTION("rejected: it goes; the rejection stays, without the record's data, for the officer to see") {
    REQUIRE(tablet.store->apply_ack({1, {{1, "forbidden", "household is out of scope", ""}}}).ok());
    CHECK_FALSE(holds(*tablet.store, Entity::visit, tablet.own_visit));
    CHECK_FALSE(holds(*tablet.store, Entity::household, kHousehold));
    const auto rejected = tablet.store->outbox({field_client::OutboxState::rejected}).value();
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].change.id == tablet.own_visit);
    CHECK(rejected[0].reject_code == "forbidden");
    CHECK(rejected[0].reject_message == "household is out of scope");
    CHECK_FALSE(rejected[0].change.data.has_value());
  }
  CHECK(holds(*tablet.store, Entity::household, kOtherHousehold));
}

TEST_CASE("a household that comes back after an eviction is kept", "[store][evict]") {
  Tablet tablet;
  tablet.evict(kHousehold);
  safer::ChangesPage back;
  back.changes = {upsert(Entity::household, kHousehold, household())};
  back.changes[0].change.hlc = safer::Hlc{1'764'149'500'000, 0};
  back.cursor = "c.3";
  REQUIRE(tablet.store->apply_page(back).ok());
  REQUIRE(tablet.store->apply_ack({1, {}}).ok());
  CHECK(holds(*tablet.store, Entity::household, kHousehold));
}

namespace {

safer::Welcome welcome_for(const std::string& user, safer::Role role) {
  safer::Welcome welcome;
  welcome.device_id = "tablet-7";
  welcome.user_id = user;
  welcome.role = role;
  welcome.wards = {"Potters Bar Oakmere"};
  welcome.stations = {"Radlett"};
  return welcome;
}

}  // namespace

// Why: a tablet enrolled again for another officer (or role) must not keep the first one's
// households: its next pull starts afresh and drops what the new scope does not bring.
TEST_CASE("a welcome for another user or role starts a full pull that drops the old scope", "[store][evict]") {
  test_support::TempDir dir;
  auto store = Store::open(dir.file("tablet.db")).value();
  REQUIRE(store->apply_welcome(welcome_for("officer.ann", safer::Role::officer), 0).ok());
  safer::ChangesPage page;
  page.changes = {upsert(Entity::household, kHousehold, household()), upsert(Entity::visit, kSyncedVisit, visit(kHousehold))};
  page.cursor = "c.1";
  REQUIRE(store->apply_page(page).ok());
  REQUIRE(store->finish_full_pull().ok());  // not in a full pull: nothing happens
  CHECK(holds(*store, Entity::household, kHousehold));

  SECTION("the same user again keeps the cursor and the records") {
    REQUIRE(store->apply_welcome(welcome_for("officer.ann", safer::Role::officer), 0).ok());
    CHECK(store->cursor().value() == "c.1");
  }
  SECTION("another user: the pull starts from the beginning, and what it does not bring goes") {
    const auto other = GENERATE(std::make_pair("officer.ben", safer::Role::officer),
                                std::make_pair("officer.ann", safer::Role::pcso));
    REQUIRE(store->apply_welcome(welcome_for(other.first, other.second), 0).ok());
    CHECK(store->cursor().value().empty());
    safer::ChangesPage fresh;
    fresh.changes = {upsert(Entity::household, kOtherHousehold, household())};
    fresh.cursor = "c.9";
    REQUIRE(store->apply_page(fresh).ok());
    REQUIRE(store->finish_full_pull().ok());
    CHECK_FALSE(holds(*store, Entity::household, kHousehold));
    CHECK_FALSE(holds(*store, Entity::visit, kSyncedVisit));
    CHECK(holds(*store, Entity::household, kOtherHousehold));
  }
}

// Why: issue 14: an evicted household must not linger in the store's free pages. SQLite is
// built with SECURE_DELETE (shared/sqlite3mc/CMakeLists.txt), as Debian's was: without it this
// fails on a plain store, where the address stays readable in the file after the eviction.
TEST_CASE("an evicted household leaves no trace in the bytes of a plain store", "[store][evict]") {
  test_support::TempDir dir;
  {
    auto store = Store::open(dir.file("tablet.db")).value();
    safer::ChangesPage page;
    page.changes = {upsert(Entity::household, kHousehold, household()), upsert(Entity::visit, kSyncedVisit, visit(kHousehold))};
    page.cursor = "c.1";
    REQUIRE(store->apply_page(page).ok());
  }
  REQUIRE_FALSE(test_support::files_containing(dir.path(), "5 Fictional Gardens").empty());
  {
    auto store = Store::open(dir.file("tablet.db")).value();
    safer::ChangesPage page;
    page.changes = {eviction(kHousehold)};
    page.cursor = "c.2";
    REQUIRE(store->apply_page(page).ok());
    REQUIRE_FALSE(holds(*store, Entity::household, kHousehold));
  }  // closing checkpoints the WAL into the database and removes it
  CHECK(test_support::files_containing(dir.path(), "5 Fictional Gardens").empty());
  CHECK(test_support::files_containing(dir.path(), "fictional note").empty());
}
