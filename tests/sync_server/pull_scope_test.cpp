// Pull scope (protocol.md §4.4): officers and PCSOs receive exactly their households, visits to them, and their own sessions; coordinators all.
#include <catch2/catch.hpp>

#include <set>

#include "store_fixture.h"

using namespace store_test;

namespace {

std::set<std::string> keys_of(const std::vector<safer::PulledChange>& changes) {
  std::set<std::string> keys;
  for (const auto& change : changes) keys.insert(key(change.change.entity, change.change.id));
  return keys;
}

std::string household_key(int number) { return key(Entity::household, uuid(number)); }
std::string visit_key(int number) { return key(Entity::visit, uuid(number)); }
std::string session_key(int number) { return key(Entity::commute_session, uuid(number)); }

// Households: 1 assigned to Ann, 2 created by Ann, 3 assigned to Bob, 4 unassigned, 5 created
// by Pat (a PCSO). Visits: 11 by Ann to 1, 12 by the coordinator to 1, 13 by Bob to 3, 14 by
// the coordinator to 4, 15 by Ann to 2, 16 by Pat to 5. Sessions: 21 Ann's, 22 Bob's, 23 Pat's.
struct Scoped {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  Device bob = fixture.enroll("bob-tablet", "officer.bob", Role::officer);
  Device pat = fixture.enroll("pat-tablet", "pcso.pat", Role::pcso);

  Scoped() {
    no_rejections(fixture.push(coordinator, {upsert(uuid(1), target_household("Elstree", true, "officer.ann"), hlc(1)),
                                             upsert(uuid(3), target_household("Shenley", true, "officer.bob"), hlc(2)),
                                             upsert(uuid(4), target_household("Elstree", false, std::nullopt), hlc(3))}));
    no_rejections(fixture.push(ann, {upsert(uuid(2), household("Shenley"), hlc(4)),
                                     upsert(uuid(11), visit(uuid(1)), hlc(5)), upsert(uuid(15), visit(uuid(2)), hlc(6)),
                                     upsert(uuid(21), session("Potters Bar"), hlc(7))}));
    no_rejections(fixture.push(bob, {upsert(uuid(13), visit(uuid(3)), hlc(8)), upsert(uuid(22), session("Radlett"), hlc(9))}));
    no_rejections(fixture.push(pat, {upsert(uuid(5), household("Elstree"), hlc(10)), upsert(uuid(16), visit(uuid(5)), hlc(11)),
                                     upsert(uuid(23), session("Radlett"), hlc(12))}));
    no_rejections(fixture.push(coordinator, {upsert(uuid(12), visit(uuid(1)), hlc(13)), upsert(uuid(14), visit(uuid(4)), hlc(14))}));
  }

  static void no_rejections(const safer::Ack& ack) { REQUIRE(ack.rejected.empty()); }

  std::set<std::string> pulled(const Device& device, const std::string& cursor = "") {
    return keys_of(pull_all(fixture.store(), device.identity, cursor, 2).first);
  }
};

}  // namespace

TEST_CASE("an officer receives exactly the records in their scope", "[pull][scope]") {
  Scoped team;
  CHECK(team.pulled(team.ann) == std::set<std::string>{household_key(1), household_key(2), visit_key(11), visit_key(12),
                                                         visit_key(15), session_key(21)});
  CHECK(team.pulled(team.bob) == std::set<std::string>{household_key(3), visit_key(13), session_key(22)});
  CHECK(team.pulled(team.pat) == std::set<std::string>{household_key(5), visit_key(16), session_key(23)});
}

TEST_CASE("a coordinator receives everything", "[pull][scope]") {
  Scoped team;
  const auto everything = team.pulled(team.coordinator);
  CHECK(everything.size() == 5 + 6 + 3);
  // Any coordinator, not only the one who wrote the records.
  const DeviceIdentity other{"coord-laptop", "coord.dan", Role::coordinator};
  CHECK(keys_of(pull_all(team.fixture.store(), other).first) == everything);
}

TEST_CASE("the scope follows the user not the device", "[pull][scope]") {
  Scoped team;
  // Another device of Ann's sees what her tablet sees; a new user sees nothing.
  const DeviceIdentity ann_phone{"ann-phone", "officer.ann", Role::officer};
  CHECK(keys_of(pull_all(team.fixture.store(), ann_phone).first) == team.pulled(team.ann));
  const DeviceIdentity stranger{"new-tablet", "officer.eve", Role::officer};
  CHECK(pull_all(team.fixture.store(), stranger).first.empty());
}

TEST_CASE("deletes in scope reach the officer and those out of scope do not", "[pull][scope]") {
  Scoped team;
  const auto ann_cursor = pull_all(team.fixture.store(), team.ann.identity).second;
  const auto bob_cursor = pull_all(team.fixture.store(), team.bob.identity).second;
  Scoped::no_rejections(team.fixture.push(team.coordinator, {remove(Entity::visit, uuid(12), hlc(30)),
                                                             remove(Entity::household, uuid(2), hlc(31)),
                                                             remove(Entity::visit, uuid(14), hlc(32))}));
  Scoped::no_rejections(team.fixture.push(team.bob, remove(Entity::commute_session, uuid(22), hlc(33))));

  // Deleting household 2 erased Ann's visit 15 to it as well (§5.7).
  const auto ann_changes = pull_all(team.fixture.store(), team.ann.identity, ann_cursor).first;
  CHECK(keys_of(ann_changes) == std::set<std::string>{visit_key(12), household_key(2), visit_key(15)});
  for (const auto& change : ann_changes) {
    CHECK(change.change.op == Op::remove);
    CHECK_FALSE(change.change.data.has_value());
  }
  CHECK(keys_of(pull_all(team.fixture.store(), team.bob.identity, bob_cursor).first) ==
        std::set<std::string>{session_key(22)});
  // From "" the tombstones in scope come too.
  CHECK(team.pulled(team.ann).count(household_key(2)) == 1);
}

TEST_CASE("a household assigned to an officer reaches them with its earlier visits", "[pull][scope]") {
  Scoped team;
  const auto ann_cursor = pull_all(team.fixture.store(), team.ann.identity).second;
  const auto bob_cursor = pull_all(team.fixture.store(), team.bob.identity).second;
  // Household 3 (Bob's, with Bob's visit 13) is reassigned to Ann.
  Scoped::no_rejections(
      team.fixture.push(team.coordinator, upsert(uuid(3), target_household("Shenley", true, "officer.ann"), hlc(40))));

  const auto ann_changes = pull_all(team.fixture.store(), team.ann.identity, ann_cursor).first;
  CHECK(keys_of(ann_changes) == std::set<std::string>{household_key(3), visit_key(13)});
  for (const auto& change : ann_changes) {
    if (change.change.entity == Entity::visit) {
      CHECK(change.device_id == "bob-tablet");
      CHECK(change.change.hlc == hlc(8));  // the same version, sent again, not a new one
    }
  }
  CHECK(team.pulled(team.ann).count(visit_key(13)) == 1);

  // Bob's scope no longer holds the household, nor the visit he recorded to it.
  CHECK(team.pulled(team.bob) == std::set<std::string>{session_key(22)});
  const auto bob_changes = keys_of(pull_all(team.fixture.store(), team.bob.identity, bob_cursor).first);
  CHECK(bob_changes.count(household_key(3)) == 0);

  SECTION("Ann may now record visits to it and Bob may not") {
    Scoped::no_rejections(team.fixture.push(team.ann, upsert(uuid(17), visit(uuid(3)), hlc(41))));
    const auto ack = team.fixture.push(team.bob, upsert(uuid(18), visit(uuid(3)), hlc(42)));
    REQUIRE(ack.rejected.size() == 1);
    CHECK(ack.rejected[0].code == "forbidden");
    // Ann's new visit does not reach Bob: household 3 is out of his scope and the visit is not his.
    CHECK(team.pulled(team.bob).count(visit_key(17)) == 0);
  }
}

TEST_CASE("assigning a household to someone else ends its creator's hold on it", "[pull][scope]") {
  Scoped team;
  // Pat created household 5 (and visited it); the coordinator assigns it to Ann.
  Scoped::no_rejections(
      team.fixture.push(team.coordinator, upsert(uuid(5), target_household("Elstree", false, "officer.ann"), hlc(50))));
  Scoped::no_rejections(team.fixture.push(team.ann, upsert(uuid(19), visit(uuid(5)), hlc(51))));
  CHECK(team.pulled(team.ann).count(visit_key(16)) == 1);
  CHECK(team.pulled(team.ann).count(visit_key(19)) == 1);
  CHECK(team.pulled(team.pat) == std::set<std::string>{session_key(23)});
  const auto pat_write = team.fixture.push(team.pat, upsert(uuid(5), household("Elstree"), hlc(52)));
  REQUIRE(pat_write.rejected.size() == 1);
  CHECK(pat_write.rejected[0].code == "forbidden");

  SECTION("and assigning it to nobody gives it back") {
    Scoped::no_rejections(
        team.fixture.push(team.coordinator, upsert(uuid(5), target_household("Elstree", false, std::nullopt), hlc(53))));
    CHECK(team.pulled(team.pat) == std::set<std::string>{household_key(5), visit_key(16), visit_key(19), session_key(23)});
    CHECK(team.pulled(team.ann).count(household_key(5)) == 0);
  }
}
