// Data leaves a device when its scope does (protocol.md §4.4, §4.6), erasure (§5.7) and wipe
// orders (§1.2), at the store level on both backends.
#include <catch2/catch.hpp>

#include <set>

#include "audit_entries.h"
#include "store_fixture.h"
#include "sync_server/dashboard.h"

using namespace store_test;

namespace {

constexpr auto kSend = ServerStore::Evictions::send;

// "evict:<id>" for an eviction, "<entity>/<id>" (and " deleted") for a record.
std::vector<std::string> feed_of(const std::vector<safer::PulledChange>& changes) {
  std::vector<std::string> feed;
  for (const auto& pulled : changes) {
    if (pulled.evict) {
      feed.push_back("evict:" + pulled.change.id);
    } else {
      feed.push_back(key(pulled.change.entity, pulled.change.id) +
                     (pulled.change.op == Op::remove ? " deleted" : ""));
    }
  }
  return feed;
}

bool has_eviction(const std::vector<safer::PulledChange>& changes) {
  for (const auto& pulled : changes) {
    if (pulled.evict) return true;
  }
  return false;
}

// Household 1 assigned to Ann with visits 11 (Ann's) and 12 (the coordinator's); household 2
// created by Ann; household 3 assigned to Bob.
struct Team {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  Device bob = fixture.enroll("bob-tablet", "officer.bob", Role::officer);

  Team() {
    REQUIRE(fixture.push(coordinator, {upsert(uuid(1), target_household("Elstree", true, "officer.ann"), hlc(1)),
                                       upsert(uuid(3), target_household("Shenley", true, "officer.bob"), hlc(2)),
                                       upsert(uuid(12), visit(uuid(1)), hlc(3))})
                .rejected.empty());
    REQUIRE(fixture.push(ann, {upsert(uuid(11), visit(uuid(1)), hlc(4)), upsert(uuid(2), household("Shenley"), hlc(5))})
                .rejected.empty());
  }

  std::string cursor_of(const Device& device) { return pull_all(fixture.store(), device.identity).second; }
  std::vector<safer::PulledChange> since(const Device& device, const std::string& cursor, int limit = 500,
                                         ServerStore::Evictions evictions = kSend) {
    return pull_all(fixture.store(), device.identity, cursor, limit, evictions).first;
  }
  void assign(const std::string& id, std::optional<std::string> user, std::int64_t at_ms) {
    REQUIRE(fixture.push(coordinator, upsert(id, target_household("Elstree", true, std::move(user)), hlc(at_ms)))
                .rejected.empty());
  }
};

}  // namespace

// Why: a household reassigned away must leave the first officer's tablet (issue 14 §2); only
// a client that announced "evict" may be sent the new op (protocol.md §10 rule 3).
TEST_CASE("a reassignment evicts the household from the old assignee only", "[pull][evict]") {
  Team team;
  const auto ann_cursor = team.cursor_of(team.ann);
  const auto bob_cursor = team.cursor_of(team.bob);
  team.assign(uuid(1), "officer.bob", 20);

  CHECK(feed_of(team.since(team.ann, ann_cursor)) == std::vector<std::string>{"evict:" + uuid(1)});
  // The new assignee gets the household and both visits, and no eviction.
  const auto bob_changes = team.since(team.bob, bob_cursor);
  CHECK_FALSE(has_eviction(bob_changes));
  const auto bob_feed = feed_of(bob_changes);
  CHECK(std::set<std::string>(bob_feed.begin(), bob_feed.end()) ==
        std::set<std::string>{key(Entity::household, uuid(1)), key(Entity::visit, uuid(11)), key(Entity::visit, uuid(12))});

  SECTION("a protocol-1 pull gets exactly what it got before: nothing") {
    CHECK(team.since(team.ann, ann_cursor, 500, ServerStore::Evictions::omit).empty());
  }
  SECTION("a pull from \"\" carries no eviction: it brings the whole scope") {
    CHECK_FALSE(has_eviction(pull_all(team.fixture.store(), team.ann.identity, "", 500, kSend).first));
  }
  SECTION("coming back later is a later upsert, after the eviction") {
    team.assign(uuid(1), "officer.ann", 21);
    const auto feed = feed_of(team.since(team.ann, ann_cursor, 1));
    REQUIRE(feed.size() == 4);
    CHECK(feed[0] == "evict:" + uuid(1));
    CHECK(std::set<std::string>(feed.begin() + 1, feed.end()) ==
          std::set<std::string>{key(Entity::household, uuid(1)), key(Entity::visit, uuid(11)), key(Entity::visit, uuid(12))});
  }
  SECTION("a coordinator is never sent an eviction") {
    CHECK_FALSE(has_eviction(team.since(team.coordinator, ann_cursor)));
  }
}

// Why: an eviction takes its place in the change feed: records before it come before it,
// and paging one change at a time neither skips nor repeats it.
TEST_CASE("evictions keep their place in the feed across pages", "[pull][evict]") {
  Team team;
  const auto ann_cursor = team.cursor_of(team.ann);
  team.assign(uuid(4), "officer.ann", 19);  // stays Ann's, for the visits between
  REQUIRE(team.fixture.push(team.ann, upsert(uuid(13), visit(uuid(4)), hlc(20))).rejected.empty());
  team.assign(uuid(1), "officer.bob", 21);
  REQUIRE(team.fixture.push(team.ann, upsert(uuid(14), visit(uuid(4)), hlc(22))).rejected.empty());
  team.assign(uuid(2), "officer.bob", 23);  // Ann's own household, given to Bob: her hold ends

  const std::vector<std::string> expected{key(Entity::household, uuid(4)), key(Entity::visit, uuid(13)), "evict:" + uuid(1),
                                          key(Entity::visit, uuid(14)), "evict:" + uuid(2)};
  for (int limit : {1, 2, 3, 500}) {
    INFO("limit " << limit);
    CHECK(feed_of(team.since(team.ann, ann_cursor, limit)) == expected);
  }
}

// Why: erasure (issue 14 §3): the household and every visit to it, whoever recorded it,
// become tombstones without data in one transaction, and the statistics stay exact.
TEST_CASE("a coordinator's delete erases the household and all its visits", "[erase]") {
  Team team;
  const auto ann_cursor = team.cursor_of(team.ann);
  const auto coordinator_cursor = team.cursor_of(team.coordinator);
  REQUIRE(team.fixture.store().stats(std::nullopt, std::nullopt).visits_total == 2);
  REQUIRE(team.fixture.push(team.coordinator, remove(Entity::household, uuid(1), hlc(30))).rejected.empty());

  const auto records = server_records(team.fixture.store());
  for (const auto& record : {key(Entity::household, uuid(1)), key(Entity::visit, uuid(11)), key(Entity::visit, uuid(12))}) {
    INFO(record);
    REQUIRE(records.count(record) == 1);
    CHECK(records.at(record).change.op == Op::remove);
    CHECK_FALSE(records.at(record).change.data.has_value());
  }
  const auto stats = team.fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.visits_total == 0);
  CHECK(stats.households_target == 1);
  CHECK(stats == team.fixture.store().recompute_stats(std::nullopt, std::nullopt));

  // Every device in scope gets the tombstones; one that announced "evict" also the eviction.
  const auto ann_feed = feed_of(team.since(team.ann, ann_cursor));
  CHECK(std::count(ann_feed.begin(), ann_feed.end(), "evict:" + uuid(1)) == 1);
  CHECK(std::count(ann_feed.begin(), ann_feed.end(), key(Entity::visit, uuid(11)) + " deleted") == 1);
  CHECK(ann_feed.back() == key(Entity::visit, uuid(12)) + " deleted");
  const auto protocol1 = feed_of(team.since(team.ann, ann_cursor, 500, ServerStore::Evictions::omit));
  CHECK(std::set<std::string>(protocol1.begin(), protocol1.end()) ==
        std::set<std::string>{key(Entity::household, uuid(1)) + " deleted", key(Entity::visit, uuid(11)) + " deleted",
                              key(Entity::visit, uuid(12)) + " deleted"});
  CHECK(team.since(team.coordinator, coordinator_cursor).size() == 3);
}

// Why: "no officer's newer upsert can bring it back" (issue 14 §3).
TEST_CASE("an erased household and its visits cannot be written again", "[erase]") {
  Team team;
  REQUIRE(team.fixture.push(team.coordinator, remove(Entity::household, uuid(1), hlc(30))).rejected.empty());

  SECTION("an officer's newer upsert of the household is refused as erased") {
    const auto ack = team.fixture.push(team.ann, upsert(uuid(1), household("Elstree"), hlc(40)));
    REQUIRE(ack.rejected.size() == 1);
    CHECK(ack.rejected[0].code == "erased");
  }
  SECTION("so is a coordinator's") {
    const auto ack = team.fixture.push(team.coordinator, upsert(uuid(1), household("Elstree"), hlc(40)));
    REQUIRE(ack.rejected.size() == 1);
    CHECK(ack.rejected[0].code == "erased");
  }
  SECTION("a newer version of a visit to it, or a new visit, is refused as erased") {
    auto ack = team.fixture.push(team.ann, {upsert(uuid(11), visit(uuid(1)), hlc(41)), upsert(uuid(15), visit(uuid(1)), hlc(42))});
    REQUIRE(ack.rejected.size() == 2);
    CHECK(ack.rejected[0].code == "erased");
    CHECK(ack.rejected[1].code == "erased");
  }
  const auto records = server_records(team.fixture.store());
  CHECK(records.at(key(Entity::household, uuid(1))).change.op == Op::remove);
  CHECK(records.at(key(Entity::visit, uuid(11))).change.op == Op::remove);
  CHECK(records.count(key(Entity::visit, uuid(15))) == 0);
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt) ==
        team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
}

// Why: on PostgreSQL a push's records are read and locked in one statement before its changes
// are applied (ServerStore::Impl::prefetch_rows). A change earlier in the push that writes one
// of them (a household's move or erasure writes its visits) must be seen by a later change of
// it, not the row as it was read first.
TEST_CASE("a visit written after its household moved or was erased in the same push sees that", "[erase][push]") {
  Team team;
  SECTION("moved to another ward: the visit's edit is counted there, once") {
    const auto ack = team.fixture.push(team.coordinator,
                                       {upsert(uuid(1), target_household("Shenley", true, "officer.ann"), hlc(30)),
                                        upsert(uuid(12), visit(uuid(1), VisitStatus::no_answer), hlc(31))});
    REQUIRE(ack.rejected.empty());
    const auto stats = team.fixture.store().stats(std::nullopt, std::nullopt);
    CHECK(stats.visits_by_ward.at("Shenley") == 2);
    CHECK(stats.visits_by_ward.at("Elstree") == 0);
    CHECK(stats == team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
  }
  SECTION("erased: the visit's edit is refused, and it stays erased") {
    const auto ack = team.fixture.push(team.coordinator, {remove(Entity::household, uuid(1), hlc(30)),
                                                          upsert(uuid(12), visit(uuid(1), VisitStatus::no_answer), hlc(31))});
    REQUIRE(ack.rejected.size() == 1);
    CHECK(ack.rejected[0].code == "erased");
    CHECK(server_records(team.fixture.store()).at(key(Entity::visit, uuid(12))).change.op == Op::remove);
    CHECK(team.fixture.store().stats(std::nullopt, std::nullopt) ==
          team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
  }
}

// Why: a coordinator's tablet with a clock behind an officer's would otherwise lose the
// delete to last-writer-wins, and the household would stay with all its data.
TEST_CASE("an erasure takes effect even with an HLC older than the stored version", "[erase]") {
  Team team;
  REQUIRE(team.fixture.push(team.ann, upsert(uuid(11), visit(uuid(1), VisitStatus::no_answer), hlc(50))).rejected.empty());
  REQUIRE(team.fixture.push(team.coordinator, remove(Entity::household, uuid(1), hlc(0, 7))).rejected.empty());
  const auto records = server_records(team.fixture.store());
  CHECK(records.at(key(Entity::household, uuid(1))).change.op == Op::remove);
  const auto& erased_visit = records.at(key(Entity::visit, uuid(11)));
  CHECK(erased_visit.change.op == Op::remove);
  CHECK(erased_visit.change.hlc > hlc(50));  // wins over Ann's copy on her tablet
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt) ==
        team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
}

// Why: a revoke that orders a wipe must be told apart from a plain revoke at the next
// upgrade (protocol.md §1.2: 410 rather than 401), and enrolling again lifts it.
TEST_CASE("a wipe order is kept with the revocation of the device's token", "[devices][wipe]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  const auto lost = store.enroll("lost-tablet", "officer.ann", Role::officer);
  const auto kept = store.enroll("kept-tablet", "officer.bob", Role::officer);
  REQUIRE(lost.ok());
  REQUIRE(kept.ok());
  CHECK_FALSE(store.deliver_wipe(*lost, "192.0.2.40"));

  REQUIRE(store.revoke("kept-tablet").ok());
  REQUIRE(store.revoke("lost-tablet", ServerStore::Wipe::yes).ok());
  CHECK_FALSE(store.authenticate(*lost).has_value());
  CHECK(store.deliver_wipe(*lost, "192.0.2.40"));
  CHECK_FALSE(store.deliver_wipe(*kept, "192.0.2.40"));  // a plain revoke stays a plain 401
  CHECK_FALSE(store.deliver_wipe("sst_not-a-token", "192.0.2.40"));
  // A later plain revoke does not lift the order.
  REQUIRE(store.revoke("lost-tablet").ok());
  CHECK(store.deliver_wipe(*lost, "192.0.2.40"));
  CHECK(store.revoke("no-such-tablet", ServerStore::Wipe::yes).error().code == "not_found");

  // Delivered twice, recorded once: in the audit trail and the device list.
  const auto delivered = entries_of(store, sync_server::kAuditWipeDelivered);
  REQUIRE(delivered.size() == 1);
  CHECK(delivered.front().entry.device == "lost-tablet");
  CHECK(delivered.front().entry.actor.address == "192.0.2.40");
  CHECK(sync_server::Dashboard(store).devices_json().find(R"("wipe":true,"wipe_delivered":true)") != std::string::npos);

  const auto again = store.enroll("lost-tablet", "officer.ann", Role::officer);
  REQUIRE(again.ok());
  CHECK_FALSE(store.deliver_wipe(*lost, "192.0.2.40"));
  CHECK_FALSE(store.deliver_wipe(*again, "192.0.2.40"));
  CHECK(store.authenticate(*again).has_value());
}
