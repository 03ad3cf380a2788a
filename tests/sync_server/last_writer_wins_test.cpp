// Conflicts (protocol.md §3): the greatest (hlc, device_id) wins whatever the arrival order, a delete is a version, and a loser is no error.
#include <catch2/catch.hpp>

#include <variant>

#include "store_fixture.h"

using namespace store_test;

namespace {

struct TwoCoordinators {
  StoreFixture fixture;
  Device tablet_a = fixture.enroll("tablet-a", "coord.cat", Role::coordinator);
  Device tablet_b = fixture.enroll("tablet-b", "coord.dan", Role::coordinator);

  std::optional<safer::PulledChange> stored(Entity entity, int number) {
    const auto records = server_records(fixture.store());
    const auto found = records.find(key(entity, uuid(number)));
    if (found == records.end()) return std::nullopt;
    return found->second;
  }

  std::string ward_of(int number) {
    const auto record = stored(Entity::household, number);
    REQUIRE(record.has_value());
    REQUIRE(record->change.data.has_value());
    return std::get<Household>(*record->change.data).ward;
  }
};

}  // namespace

TEST_CASE("an older upsert arriving after a newer one is ignored without a rejection", "[push][conflicts]") {
  TwoCoordinators team;
  team.fixture.push(team.tablet_a, upsert(uuid(1), household("Elstree"), hlc(100)));

  auto outcome = team.fixture.store().push(team.tablet_b.identity,
                                           safer::ReceivedPush{{{1, upsert(uuid(1), household("Shenley"), hlc(50)), {}}}});
  REQUIRE(outcome.ok());
  REQUIRE(outcome->ack.has_value());
  CHECK(outcome->ack->acked_seq == 1);
  CHECK(outcome->ack->rejected.empty());
  CHECK(outcome->applied == 0);
  CHECK(outcome->ignored == 1);
  CHECK(team.ward_of(1) == "Elstree");
  CHECK(team.stored(Entity::household, 1)->device_id == "tablet-a");
  CHECK(team.stored(Entity::household, 1)->change.hlc == hlc(100));

  SECTION("a newer upsert replaces it") {
    team.tablet_b.next_seq = 2;
    team.fixture.push(team.tablet_b, upsert(uuid(1), household("Shenley"), hlc(101)));
    CHECK(team.ward_of(1) == "Shenley");
    CHECK(team.stored(Entity::household, 1)->device_id == "tablet-b");
  }
  SECTION("a lower counter in the same millisecond loses and a higher one wins") {
    team.tablet_b.next_seq = 2;
    team.fixture.push(team.tablet_a, upsert(uuid(2), household("Elstree"), hlc(200, 5)));
    team.fixture.push(team.tablet_b, upsert(uuid(2), household("Shenley"), hlc(200, 4)));
    CHECK(team.ward_of(2) == "Elstree");
    team.fixture.push(team.tablet_b, upsert(uuid(2), household("Shenley"), hlc(200, 6)));
    CHECK(team.ward_of(2) == "Shenley");
  }
}

TEST_CASE("the order of arrival does not decide the winner", "[push][conflicts]") {
  TwoCoordinators team;
  const Change older = upsert(uuid(1), household("Elstree"), hlc(10));
  const Change newer = upsert(uuid(1), household("Shenley"), hlc(20));
  SECTION("newer first") {
    team.fixture.push(team.tablet_a, newer);
    team.fixture.push(team.tablet_b, older);
  }
  SECTION("older first") {
    team.fixture.push(team.tablet_b, older);
    team.fixture.push(team.tablet_a, newer);
  }
  SECTION("both in one batch, newer first") {
    team.fixture.push(team.tablet_a, {newer, older});
  }
  CHECK(team.ward_of(1) == "Shenley");
  CHECK(team.stored(Entity::household, 1)->change.hlc == hlc(20));
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt) == team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
}

TEST_CASE("equal hlcs are ordered by device_id", "[push][conflicts]") {
  TwoCoordinators team;
  const Change from_a = upsert(uuid(1), household("Elstree"), hlc(10));
  const Change from_b = upsert(uuid(1), household("Shenley"), hlc(10));
  SECTION("the greater device_id arrives last") {
    team.fixture.push(team.tablet_a, from_a);
    team.fixture.push(team.tablet_b, from_b);
    CHECK(team.ward_of(1) == "Shenley");
    CHECK(team.stored(Entity::household, 1)->device_id == "tablet-b");
  }
  SECTION("the greater device_id arrives first") {
    team.fixture.push(team.tablet_b, from_b);
    const auto ack = team.fixture.push(team.tablet_a, from_a);
    CHECK(ack.rejected.empty());
    CHECK(team.ward_of(1) == "Shenley");
    CHECK(team.stored(Entity::household, 1)->device_id == "tablet-b");

    SECTION("the same version sent again by the same device under a new seq changes nothing") {
      const DeviceIdentity audit{"audit", "coord.audit", Role::coordinator};
      const auto cursor = pull_all(team.fixture.store(), audit).second;
      team.fixture.push(team.tablet_b, upsert(uuid(1), household("Elstree"), hlc(10)));
      CHECK(team.ward_of(1) == "Shenley");
      // Nothing new to pull: the losing version took no place in the change feed.
      auto page = team.fixture.store().pull(audit, {cursor, 100});
      REQUIRE(page.ok());
      CHECK(page->changes.empty());
    }
  }
}

TEST_CASE("a delete is a version and an older upsert does not bring the record back", "[push][conflicts]") {
  TwoCoordinators team;
  team.fixture.push(team.tablet_a, upsert(uuid(1), target_household("Elstree", true, std::nullopt), hlc(10)));
  team.fixture.push(team.tablet_a, upsert(uuid(5), visit(uuid(1)), hlc(11)));
  REQUIRE(team.fixture.store().stats(std::nullopt, std::nullopt).visits_total == 1);

  team.fixture.push(team.tablet_b, remove(Entity::visit, uuid(5), hlc(30)));
  const auto ack = team.fixture.push(team.tablet_a, upsert(uuid(5), visit(uuid(1), VisitStatus::declined), hlc(20)));
  CHECK(ack.rejected.empty());
  auto stored = team.stored(Entity::visit, 5);
  REQUIRE(stored.has_value());
  CHECK(stored->change.op == Op::remove);
  CHECK_FALSE(stored->change.data.has_value());
  CHECK(stored->device_id == "tablet-b");
  auto stats = team.fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.visits_total == 0);
  CHECK(stats.households_visited == 0);

  SECTION("a newer upsert after the delete brings it back") {
    team.fixture.push(team.tablet_a, upsert(uuid(5), visit(uuid(1), VisitStatus::declined), hlc(40)));
    stored = team.stored(Entity::visit, 5);
    REQUIRE(stored.has_value());
    CHECK(stored->change.op == Op::upsert);
    CHECK(std::get<Visit>(*stored->change.data).status == VisitStatus::declined);
    stats = team.fixture.store().stats(std::nullopt, std::nullopt);
    CHECK(stats.visits_total == 1);
    CHECK(stats.visits_by_status[static_cast<std::size_t>(VisitStatus::declined)] == 1);
  }
  SECTION("a delete that arrives before the record it deletes still wins over it") {
    team.fixture.push(team.tablet_b, remove(Entity::household, uuid(2), hlc(50)));
    team.fixture.push(team.tablet_a, upsert(uuid(2), target_household("Shenley", true, std::nullopt), hlc(45)));
    const auto household_row = team.stored(Entity::household, 2);
    REQUIRE(household_row.has_value());
    CHECK(household_row->change.op == Op::remove);
    CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).households_target == 1);
  }
  SECTION("an older delete of a household still erases it (protocol.md §5.7)") {
    team.fixture.push(team.tablet_b, remove(Entity::household, uuid(1), hlc(5)));
    const auto household_row = team.stored(Entity::household, 1);
    REQUIRE(household_row.has_value());
    CHECK(household_row->change.op == Op::remove);
    CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).households_target == 0);
  }
}

TEST_CASE("statistics follow only the winning version of a visit", "[push][conflicts][stats]") {
  TwoCoordinators team;
  team.fixture.push(team.tablet_a, upsert(uuid(1), target_household("Elstree", true, std::nullopt), hlc(1)));
  Visit rich = visit(uuid(1));
  rich.outcomes = {safer::Outcome::fire_safety_check, safer::Outcome::crime_prevention_advice};
  rich.smoke_detectors_fitted = 3;
  Visit plain = visit(uuid(1));
  plain.smoke_detectors_fitted = 1;
  team.fixture.push(team.tablet_a, upsert(uuid(5), plain, hlc(20)));
  team.fixture.push(team.tablet_b, upsert(uuid(5), rich, hlc(19)));  // older: loses
  auto stats = team.fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.visits_total == 1);
  CHECK(stats.smoke_detectors_fitted == 1);
  CHECK(stats.outcomes[static_cast<std::size_t>(safer::Outcome::fire_safety_check)] == 0);

  team.fixture.push(team.tablet_b, upsert(uuid(5), rich, hlc(21)));  // newer: wins
  stats = team.fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.visits_total == 1);
  CHECK(stats.smoke_detectors_fitted == 3);
  CHECK(stats.outcomes[static_cast<std::size_t>(safer::Outcome::fire_safety_check)] == 1);
  CHECK(stats.outcomes[static_cast<std::size_t>(safer::Outcome::crime_prevention_advice)] == 1);
  CHECK(stats == team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
}

// Why: on PostgreSQL the visits and commute sessions of a push are written when it ends, by
// two statements (ServerStore::Impl::write_pending_records); a change later in the push must
// still see an earlier one's version, and a household's change the visits written before it.
TEST_CASE("versions of one record in one push, and a household's change after its visits, all count",
          "[push][conflicts][stats]") {
  TwoCoordinators team;
  REQUIRE(team.fixture.push(team.tablet_a, {upsert(uuid(1), household("Elstree"), hlc(10)),
                                            upsert(uuid(20), visit(uuid(1)), hlc(11))})
              .rejected.empty());
  auto& store = team.fixture.store();
  const auto visit_status = [&team](int number) {
    const auto record = team.stored(Entity::visit, number);
    REQUIRE(record.has_value());
    return record->change.data ? std::get<Visit>(*record->change.data).status : std::optional<VisitStatus>();
  };

  SECTION("a new visit edited, and an older one edited twice, in the same push") {
    REQUIRE(team.fixture.push(team.tablet_a, {upsert(uuid(21), visit(uuid(1), VisitStatus::no_answer), hlc(20)),
                                              upsert(uuid(20), visit(uuid(1), VisitStatus::no_answer), hlc(21)),
                                              upsert(uuid(21), visit(uuid(1), VisitStatus::completed), hlc(22)),
                                              upsert(uuid(20), visit(uuid(1), VisitStatus::declined), hlc(23)),
                                              upsert(uuid(21), visit(uuid(1), VisitStatus::completed), hlc(19))})
                .rejected.empty());
    CHECK(visit_status(21) == VisitStatus::completed);
    CHECK(team.stored(Entity::visit, 21)->change.hlc == hlc(22));  // the older third version lost
    CHECK(visit_status(20) == VisitStatus::declined);
    CHECK(store.stats(std::nullopt, std::nullopt).visits_total == 2);
  }
  SECTION("a new visit deleted in the same push") {
    REQUIRE(team.fixture.push(team.tablet_a, {upsert(uuid(21), visit(uuid(1)), hlc(20)), remove(Entity::visit, uuid(21), hlc(21))})
                .rejected.empty());
    CHECK(team.stored(Entity::visit, 21)->change.op == Op::remove);
    CHECK(store.stats(std::nullopt, std::nullopt).visits_total == 1);
  }
  SECTION("new visits, then their household moves to another ward: they move with it") {
    REQUIRE(team.fixture.push(team.tablet_a, {upsert(uuid(21), visit(uuid(1)), hlc(20)),
                                              upsert(uuid(22), visit(uuid(1), VisitStatus::no_answer), hlc(21)),
                                              upsert(uuid(1), household("Shenley"), hlc(22))})
                .rejected.empty());
    const auto stats = store.stats(std::nullopt, std::nullopt);
    CHECK(stats.visits_by_ward.at("Shenley") == 3);
    CHECK(stats.visits_by_ward.at("Elstree") == 0);
  }
  SECTION("a new visit, then its household is erased: the visit is erased with it") {
    REQUIRE(team.fixture.push(team.tablet_a, {upsert(uuid(21), visit(uuid(1)), hlc(20)),
                                              remove(Entity::household, uuid(1), hlc(21))})
                .rejected.empty());
    CHECK(team.stored(Entity::visit, 21)->change.op == Op::remove);
    CHECK(store.stats(std::nullopt, std::nullopt).visits_total == 0);
  }
  CHECK(store.stats(std::nullopt, std::nullopt) == team.fixture.store().recompute_stats(std::nullopt, std::nullopt));
}
