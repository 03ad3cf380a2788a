// Statistics field by field (protocol.md §7, §9) on small hand-made data, and Europe/London local dates across the BST changes.
#include <catch2/catch.hpp>

#include "safer/pg.h"
#include "safer/sqlite.h"
#include "store_fixture.h"
#include "sync_server/local_time.h"
#include "test_database.h"

using namespace store_test;

namespace {

using safer::Outcome;

std::size_t index(VisitStatus status) { return static_cast<std::size_t>(status); }
std::size_t index(Outcome outcome) { return static_cast<std::size_t>(outcome); }

struct Coordinated {
  explicit Coordinated(StoreFixture::LocalDate local_date = utc_date) : fixture(std::move(local_date)) {}
  StoreFixture fixture;
  Device tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  std::uint32_t counter = 0;

  // Pushes one change with the next hlc; it must be accepted.
  void write(const std::string& id, safer::RecordData data) {
    const auto ack = fixture.push(tablet, upsert(id, std::move(data), hlc(0, ++counter)));
    REQUIRE(ack.rejected.empty());
  }
  void erase(Entity entity, const std::string& id) {
    const auto ack = fixture.push(tablet, remove(entity, id, hlc(0, ++counter)));
    REQUIRE(ack.rejected.empty());
  }
  safer::Stats stats(const std::optional<safer::CivilDate>& from, const std::optional<safer::CivilDate>& to) {
    return checked_stats(fixture.store(), from, to);
  }
  safer::Stats stats(const char* day) { return stats(date(day), date(day)); }
  safer::Stats all_time() { return stats(std::nullopt, std::nullopt); }
};

}  // namespace

TEST_CASE("an empty store has zero statistics and lists every ward and station", "[stats]") {
  Coordinated team;
  const auto stats = team.all_time();
  CHECK_FALSE(stats.from.has_value());
  CHECK_FALSE(stats.to.has_value());
  CHECK(stats.visits_total == 0);
  CHECK(stats.households_target == 0);
  CHECK(stats.coverage() == 0.0);
  CHECK(stats.visits_by_ward.size() == 16);
  CHECK(stats.visits_by_ward.at("Bentley Heath & The Royds") == 0);
  CHECK(stats.cards_by_station.size() == 3);
  CHECK(stats.cards_by_station.at("Elstree & Borehamwood") == 0);
  const auto ranged = team.stats("2026-04-01");
  CHECK(ranged.from == date("2026-04-01"));
  CHECK(ranged.to == date("2026-04-01"));
}

TEST_CASE("visits count by the local date of visited_at with both ends of the range included", "[stats]") {
  Coordinated team;
  team.write(uuid(1), household("Elstree"));
  team.write(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-11-20T23:59:59.999Z")));
  team.write(uuid(12), visit(uuid(1), VisitStatus::no_answer, at("2026-11-21T00:00:00Z")));
  team.write(uuid(13), visit(uuid(1), VisitStatus::declined, at("2026-11-22T12:00:00Z")));
  team.write(uuid(14), visit(uuid(1), VisitStatus::rescheduled, at("2026-11-22T13:00:00Z")));

  CHECK(team.stats("2026-11-20").visits_total == 1);
  CHECK(team.stats("2026-11-21").visits_total == 1);
  CHECK(team.stats("2026-11-21").visits_by_status[index(VisitStatus::no_answer)] == 1);
  CHECK(team.stats(date("2026-11-21"), date("2026-11-22")).visits_total == 3);
  CHECK(team.stats(std::nullopt, date("2026-11-21")).visits_total == 2);
  CHECK(team.stats(date("2026-11-22"), std::nullopt).visits_total == 2);
  CHECK(team.stats("2026-11-23").visits_total == 0);
  const auto all = team.all_time();
  CHECK(all.visits_total == 4);
  for (auto status : {VisitStatus::completed, VisitStatus::no_answer, VisitStatus::declined, VisitStatus::rescheduled}) {
    CHECK(all.visits_by_status[index(status)] == 1);
  }
  CHECK(all.visits_by_ward.at("Elstree") == 4);

  // Moving a visit to another day moves its count.
  team.write(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-11-23T08:00:00Z")));
  CHECK(team.stats("2026-11-20").visits_total == 0);
  CHECK(team.stats("2026-11-23").visits_total == 1);
}

TEST_CASE("commute sessions count by started_at and by_station sums cards", "[stats]") {
  Coordinated team;
  CommuteSession overnight = session("Potters Bar", 40, at("2026-11-20T23:00:00Z"));
  overnight.ended_at = at("2026-11-21T01:00:00Z");
  team.write(uuid(21), overnight);
  team.write(uuid(22), session("Potters Bar", 2, at("2026-11-21T07:00:00Z")));
  team.write(uuid(23), session("Radlett", 0, at("2026-11-21T08:00:00Z")));
  team.write(uuid(24), session("Radlett", 100, at("2026-11-21T09:00:00Z")));
  team.erase(Entity::commute_session, uuid(24));

  const auto first = team.stats("2026-11-20");
  CHECK(first.commute_sessions == 1);
  CHECK(first.cards_distributed == 40);
  const auto second = team.stats("2026-11-21");
  CHECK(second.commute_sessions == 2);
  CHECK(second.cards_distributed == 2);
  CHECK(second.cards_by_station.at("Potters Bar") == 2);
  CHECK(second.cards_by_station.at("Radlett") == 0);
  const auto all = team.all_time();
  CHECK(all.commute_sessions == 3);
  CHECK(all.cards_distributed == 42);
  CHECK(all.cards_by_station.at("Potters Bar") == 42);
  CHECK(all.cards_by_station.at("Elstree & Borehamwood") == 0);
}

TEST_CASE("commute messages count the sessions that gave each and their cards, by station", "[stats]") {
  Coordinated team;
  using safer::CommuteMessage;
  const auto given = [](CommuteSession record, safer::EnumSet<CommuteMessage> messages) {
    record.messages = messages;
    return record;
  };
  team.write(uuid(31), given(session("Potters Bar", 40), {CommuteMessage::vehicle_security, CommuteMessage::home_security}));
  team.write(uuid(32), given(session("Potters Bar", 5), {CommuteMessage::home_security}));
  team.write(uuid(33), given(session("Radlett", 7), {CommuteMessage::garden_tools}));
  team.write(uuid(34), given(session("Radlett", 9), {CommuteMessage::personal_belongings}));
  // An edit moves its counts: 33 no longer gave garden_tools; a deleted session counts nothing.
  team.write(uuid(33), given(session("Radlett", 8), {CommuteMessage::vehicle_security}));
  team.erase(Entity::commute_session, uuid(34));

  const auto all = team.all_time();
  const auto count = [](const safer::Stats::MessageCounts& counts, CommuteMessage message) {
    return counts[static_cast<std::size_t>(message)];
  };
  CHECK(count(all.messages, CommuteMessage::vehicle_security) == safer::Stats::MessageCount{2, 48});
  CHECK(count(all.messages, CommuteMessage::home_security) == safer::Stats::MessageCount{2, 45});
  CHECK(count(all.messages, CommuteMessage::garden_tools) == safer::Stats::MessageCount{0, 0});
  CHECK(count(all.messages, CommuteMessage::personal_belongings) == safer::Stats::MessageCount{0, 0});
  CHECK(count(all.messages_by_station.at("Potters Bar"), CommuteMessage::home_security) == safer::Stats::MessageCount{2, 45});
  CHECK(count(all.messages_by_station.at("Radlett"), CommuteMessage::vehicle_security) == safer::Stats::MessageCount{1, 8});
  CHECK(all.messages_by_station.at("Elstree & Borehamwood") == safer::Stats::MessageCounts{});
  CHECK(team.stats("2026-11-24").messages == safer::Stats::MessageCounts{});
}

TEST_CASE("households.target counts current target households whatever the range", "[stats]") {
  Coordinated team;
  team.write(uuid(1), target_household("Elstree", true, std::nullopt));
  team.write(uuid(2), target_household("Elstree", true, "officer.ann"));
  team.write(uuid(3), target_household("Elstree", false, std::nullopt));
  CHECK(team.all_time().households_target == 2);
  CHECK(team.stats("1999-01-01").households_target == 2);
  team.write(uuid(2), target_household("Elstree", false, "officer.ann"));
  team.write(uuid(3), target_household("Elstree", true, std::nullopt));
  team.erase(Entity::household, uuid(1));
  CHECK(team.stats("2026-11-26").households_target == 1);
}

TEST_CASE("households.visited counts target households with a completed visit in the range", "[stats]") {
  Coordinated team;
  // 1: target, two completed visits on the 20th; 2: target, only no_answer; 3: not a target,
  // completed; 4: target, completed on the 22nd only.
  team.write(uuid(1), target_household("Elstree", true, std::nullopt));
  team.write(uuid(2), target_household("Elstree", true, std::nullopt));
  team.write(uuid(3), target_household("Elstree", false, std::nullopt));
  team.write(uuid(4), target_household("Shenley", true, std::nullopt));
  team.write(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-11-20T09:00:00Z")));
  team.write(uuid(12), visit(uuid(1), VisitStatus::completed, at("2026-11-20T10:00:00Z")));
  team.write(uuid(13), visit(uuid(2), VisitStatus::no_answer, at("2026-11-20T11:00:00Z")));
  team.write(uuid(14), visit(uuid(3), VisitStatus::completed, at("2026-11-20T12:00:00Z")));
  team.write(uuid(15), visit(uuid(4), VisitStatus::completed, at("2026-11-22T12:00:00Z")));

  auto day = team.stats("2026-11-20");
  CHECK(day.households_target == 3);
  CHECK(day.households_visited == 1);
  CHECK(day.coverage() == Approx(1.0 / 3.0));
  CHECK(team.stats("2026-11-21").households_visited == 0);
  CHECK(team.stats("2026-11-21").coverage() == 0.0);
  auto all = team.all_time();
  CHECK(all.households_visited == 2);
  CHECK(all.coverage() == Approx(2.0 / 3.0));

  SECTION("a visit whose status changes stops counting") {
    team.write(uuid(15), visit(uuid(4), VisitStatus::rescheduled, at("2026-11-22T12:00:00Z")));
    CHECK(team.all_time().households_visited == 1);
  }
  SECTION("a household that stops being a target stops counting") {
    team.write(uuid(1), target_household("Elstree", false, std::nullopt));
    CHECK(team.stats("2026-11-20").households_visited == 0);
    CHECK(team.all_time().households_target == 2);
  }
  SECTION("a household that becomes a target counts its earlier visits") {
    team.write(uuid(3), target_household("Elstree", true, std::nullopt));
    CHECK(team.stats("2026-11-20").households_visited == 2);
    CHECK(team.stats("2026-11-20").households_target == 4);
  }
  SECTION("deleting one of two completed visits keeps the household visited") {
    team.erase(Entity::visit, uuid(11));
    CHECK(team.stats("2026-11-20").households_visited == 1);
    team.erase(Entity::visit, uuid(12));
    CHECK(team.stats("2026-11-20").households_visited == 0);
  }
  SECTION("a visit moved to another household counts there") {
    team.write(uuid(14), visit(uuid(2), VisitStatus::completed, at("2026-11-20T12:00:00Z")));
    CHECK(team.stats("2026-11-20").households_visited == 2);
  }
  SECTION("a deleted target household is neither target nor visited") {
    team.erase(Entity::household, uuid(1));
    CHECK(team.stats("2026-11-20").households_visited == 0);
    CHECK(team.all_time().households_target == 2);
  }
}

TEST_CASE("households.reached counts every household with a completed visit in the range once", "[stats]") {
  Coordinated team;
  // 1: target, two completed visits on the 20th; 2: only no_answer; 3: not a target, completed
  // on the 20th and in April 2027; 4: not a target, completed in March 2026.
  team.write(uuid(1), target_household("Elstree", true, std::nullopt));
  team.write(uuid(2), target_household("Elstree", false, std::nullopt));
  team.write(uuid(3), target_household("Shenley", false, std::nullopt));
  team.write(uuid(4), target_household("Shenley", false, std::nullopt));
  team.write(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-11-20T09:00:00Z")));
  team.write(uuid(12), visit(uuid(1), VisitStatus::completed, at("2026-11-20T10:00:00Z")));
  team.write(uuid(13), visit(uuid(2), VisitStatus::no_answer, at("2026-11-20T11:00:00Z")));
  team.write(uuid(14), visit(uuid(3), VisitStatus::completed, at("2026-11-20T12:00:00Z")));
  team.write(uuid(15), visit(uuid(3), VisitStatus::completed, at("2027-04-02T12:00:00Z")));
  team.write(uuid(16), visit(uuid(4), VisitStatus::completed, at("2026-03-31T12:00:00Z")));

  CHECK(team.stats("2026-11-20").households_reached == 2);
  CHECK(team.stats("2026-11-20").households_visited == 1);  // targets only
  CHECK(team.stats("2026-11-21").households_reached == 0);
  CHECK(team.all_time().households_reached == 3);
  // Whole financial years are read from the year roll-up, other ranges from the days.
  CHECK(team.stats(date("2026-04-01"), date("2027-03-31")).households_reached == 2);
  CHECK(team.stats(date("2025-04-01"), date("2026-03-31")).households_reached == 1);
  CHECK(team.stats(date("2027-04-01"), date("2028-03-31")).households_reached == 1);
  CHECK(team.stats(date("2026-03-31"), date("2026-11-20")).households_reached == 3);

  team.erase(Entity::visit, uuid(14));
  CHECK(team.stats("2026-11-20").households_reached == 1);
  CHECK(team.all_time().households_reached == 3);  // household 3's April visit
  team.erase(Entity::household, uuid(3));           // an erasure takes its visits with it
  CHECK(team.all_time().households_reached == 2);
  CHECK(team.stats(date("2027-04-01"), date("2028-03-31")).households_reached == 0);
}

TEST_CASE("by_vulnerability counts households reached and their completed visits under each current group", "[stats]") {
  Coordinated team;
  using safer::Vulnerability;
  const auto vulnerable = [](safer::EnumSet<Vulnerability> groups) {
    Household record = household("Elstree");
    record.vulnerability = groups;
    return record;
  };
  const auto group = [](const safer::Stats& stats, std::optional<Vulnerability> which) {
    return stats.by_vulnerability[which ? static_cast<std::size_t>(*which) : stats.by_vulnerability.size() - 1];
  };
  team.write(uuid(1), vulnerable({Vulnerability::elderly, Vulnerability::lives_alone}));
  team.write(uuid(2), vulnerable({Vulnerability::elderly}));
  team.write(uuid(3), vulnerable({}));
  team.write(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-11-20T09:00:00Z")));
  team.write(uuid(12), visit(uuid(1), VisitStatus::completed, at("2026-11-21T09:00:00Z")));
  team.write(uuid(13), visit(uuid(2), VisitStatus::declined, at("2026-11-20T09:00:00Z")));  // not reached
  team.write(uuid(14), visit(uuid(3), VisitStatus::completed, at("2026-11-20T09:00:00Z")));

  using Count = safer::Stats::GroupCount;
  for (const auto& stats : {team.all_time(), team.stats(date("2026-04-01"), date("2027-03-31")),
                            team.stats(date("2026-11-20"), date("2026-11-21"))}) {
    CHECK(group(stats, Vulnerability::elderly) == Count{1, 2});
    CHECK(group(stats, Vulnerability::lives_alone) == Count{1, 2});
    CHECK(group(stats, Vulnerability::disability) == Count{0, 0});
    CHECK(group(stats, std::nullopt) == Count{1, 1});
  }
  CHECK(group(team.stats("2026-11-21"), Vulnerability::elderly) == Count{1, 1});
  CHECK(group(team.stats("2026-11-21"), std::nullopt) == Count{0, 0});

  // The register's groups now decide, not those when the visit was made.
  team.write(uuid(1), vulnerable({Vulnerability::disability}));
  team.write(uuid(2), vulnerable({}));
  team.write(uuid(12), visit(uuid(2), VisitStatus::completed, at("2026-11-21T09:00:00Z")));  // moved to 2
  const auto all = team.all_time();
  CHECK(group(all, Vulnerability::elderly) == Count{0, 0});
  CHECK(group(all, Vulnerability::disability) == Count{1, 1});
  CHECK(group(all, std::nullopt) == Count{2, 2});
  team.erase(Entity::household, uuid(3));  // erased with its visits
  CHECK(group(team.all_time(), std::nullopt) == Count{1, 1});
}

TEST_CASE("the migration that keeps the groups by vulnerability fills them from the stored households", "[stats][migration]") {
  Coordinated team;
  using safer::Vulnerability;
  const std::vector<safer::EnumSet<Vulnerability>> groups = {
      {Vulnerability::elderly, Vulnerability::lives_alone}, {Vulnerability::repeat_victim}, {},
      {Vulnerability::disability, Vulnerability::other}};
  for (int i = 0; i < 8; ++i) {
    Household record = household("Elstree");
    record.vulnerability = groups[static_cast<std::size_t>(i) % groups.size()];
    team.write(uuid(1 + i), record);
  }
  // Completed visits to households 1-7 in two financial years, and one declined; 8 has none.
  for (int i = 0; i < 14; ++i) {
    const char* when = i % 3 == 0 ? "2026-03-20T09:00:00Z" : "2026-11-20T09:00:00Z";
    team.write(uuid(100 + i), visit(uuid(1 + i % 7), i == 13 ? VisitStatus::declined : VisitStatus::completed, at(when)));
  }
  const auto all = team.all_time();
  const auto year = team.stats(date("2026-04-01"), date("2027-03-31"));
  const auto last_year = team.stats(date("2025-04-01"), date("2026-03-31"));
  REQUIRE(all.by_vulnerability[static_cast<std::size_t>(Vulnerability::elderly)].households == 2);
  REQUIRE(all.by_vulnerability.back().households == 2);  // households 3 and 7

  team.fixture.reopen();
  // Back to before the migration, without the table it makes.
  if (test_support::testing_postgresql()) {
    safer::pg::Connection(team.fixture.path()).exec("DROP TABLE year_groups; DELETE FROM schema_version WHERE number >= 17");
  } else {
    safer::sqlite::Database(team.fixture.path()).exec("DROP TABLE year_groups; PRAGMA user_version = 19;");
  }
  team.fixture.reopen();
  CHECK(team.all_time() == all);
  CHECK(team.stats(date("2026-04-01"), date("2027-03-31")) == year);
  CHECK(team.stats(date("2025-04-01"), date("2026-03-31")) == last_year);
}

TEST_CASE("by_ward counts visits under their household's current ward", "[stats]") {
  Coordinated team;
  team.write(uuid(1), household("Elstree"));
  team.write(uuid(2), household("Bushey North"));
  team.write(uuid(11), visit(uuid(1)));
  team.write(uuid(12), visit(uuid(1)));
  team.write(uuid(13), visit(uuid(2)));
  CHECK(team.all_time().visits_by_ward.at("Elstree") == 2);

  team.write(uuid(1), household("Shenley"));
  auto stats = team.all_time();
  CHECK(stats.visits_by_ward.at("Elstree") == 0);
  CHECK(stats.visits_by_ward.at("Shenley") == 2);
  CHECK(stats.visits_by_ward.at("Bushey North") == 1);

  team.write(uuid(12), visit(uuid(2)));  // moved to the other household
  stats = team.all_time();
  CHECK(stats.visits_by_ward.at("Shenley") == 1);
  CHECK(stats.visits_by_ward.at("Bushey North") == 2);

  team.erase(Entity::visit, uuid(13));
  team.write(uuid(2), household("Elstree"));
  stats = team.all_time();
  CHECK(stats.visits_by_ward.at("Bushey North") == 0);
  CHECK(stats.visits_by_ward.at("Elstree") == 1);
  CHECK(stats.visits_total == 2);
}

TEST_CASE("outcomes count the winning not-deleted visits with each flag and sum smoke detectors", "[stats]") {
  Coordinated team;
  team.write(uuid(1), household());
  Visit everything = visit(uuid(1));
  for (std::size_t i = 0; i < 6; ++i) everything.outcomes.insert(static_cast<Outcome>(i));
  everything.smoke_detectors_fitted = 4;
  Visit some = visit(uuid(1));
  some.outcomes = {Outcome::fire_safety_check, Outcome::follow_up_required};
  some.smoke_detectors_fitted = 2;
  some.referrals = {safer::Referral::health};
  team.write(uuid(11), everything);
  team.write(uuid(12), some);
  team.write(uuid(13), visit(uuid(1), VisitStatus::no_answer));

  auto stats = team.all_time();
  CHECK(stats.outcomes[index(Outcome::crime_prevention_advice)] == 1);
  CHECK(stats.outcomes[index(Outcome::fire_safety_check)] == 2);
  CHECK(stats.outcomes[index(Outcome::healthy_lifestyle_advice)] == 1);
  CHECK(stats.outcomes[index(Outcome::community_involvement_info)] == 1);
  CHECK(stats.outcomes[index(Outcome::first_aid_training)] == 1);
  CHECK(stats.outcomes[index(Outcome::follow_up_required)] == 2);
  CHECK(stats.smoke_detectors_fitted == 6);

  team.write(uuid(11), visit(uuid(1), VisitStatus::declined));  // an edit removes every outcome
  team.erase(Entity::visit, uuid(12));
  stats = team.all_time();
  for (std::size_t i = 0; i < 6; ++i) CHECK(stats.outcomes[i] == 0);
  CHECK(stats.smoke_detectors_fitted == 0);
  CHECK(stats.visits_total == 2);
  CHECK(stats.visits_by_status[index(VisitStatus::declined)] == 1);
}

TEST_CASE("Europe/London local dates follow the BST changes", "[stats][time]") {
  REQUIRE(sync_server::use_time_zone("Europe/London").ok());
  using sync_server::local_date;
  CHECK(local_date(at("2026-03-28T23:30:00Z")) == date("2026-03-28"));
  CHECK(local_date(at("2026-03-29T00:30:00Z")) == date("2026-03-29"));
  CHECK(local_date(at("2026-03-29T23:30:00Z")) == date("2026-03-30"));
  CHECK(local_date(at("2026-06-30T23:30:00Z")) == date("2026-07-01"));
  CHECK(local_date(at("2026-10-24T23:30:00Z")) == date("2026-10-25"));
  CHECK(local_date(at("2026-10-25T23:30:00Z")) == date("2026-10-25"));
  CHECK(local_date(at("2026-12-31T23:59:59.999Z")) == date("2026-12-31"));

  const auto unknown = sync_server::use_time_zone("Europe/Atlantis");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "invalid");
  CHECK(local_date(at("2026-06-30T23:30:00Z")) == date("2026-07-01"));  // the zone is unchanged
}

TEST_CASE("a store counts days in Europe/London by default", "[stats][time]") {
  REQUIRE(sync_server::use_time_zone("Europe/London").ok());
  test_support::TempDir dir;
  sync_server::StoreOptions options;  // no local_date: the server's zone
  options.wall_clock = [] { return kNow; };
  auto opened = ServerStore::open(test_support::new_test_database(dir), options);
  REQUIRE(opened.ok());
  ServerStore& store = **opened;
  REQUIRE(store.enroll("coord-tablet", "coord.cat", Role::coordinator).ok());
  const DeviceIdentity tablet{"coord-tablet", "coord.cat", Role::coordinator};
  safer::ReceivedPush batch{{{1, upsert(uuid(1), household(), hlc(1)), {}},
                             {2, upsert(uuid(11), visit(uuid(1), VisitStatus::completed, at("2026-03-29T00:30:00Z")), hlc(2)), {}},
                             {3, upsert(uuid(12), visit(uuid(1), VisitStatus::completed, at("2026-03-29T23:30:00Z")), hlc(3)), {}},
                             {4, upsert(uuid(13), visit(uuid(1), VisitStatus::completed, at("2026-06-30T23:30:00Z")), hlc(4)), {}},
                             {5, upsert(uuid(21), session("Radlett", 9, at("2026-10-24T23:30:00Z")), hlc(5)), {}},
                             {6, upsert(uuid(22), session("Radlett", 5, at("2026-10-25T23:30:00Z")), hlc(6)), {}}}};
  const auto pushed = store.push(tablet, batch);
  REQUIRE(pushed.ok());
  REQUIRE(pushed->ack.has_value());
  REQUIRE(pushed->ack->rejected.empty());

  const auto day = [&](const char* text) { return store.stats(date(text), date(text)); };
  CHECK(day("2026-03-29").visits_total == 1);
  CHECK(day("2026-03-30").visits_total == 1);
  CHECK(day("2026-06-30").visits_total == 0);
  CHECK(day("2026-07-01").visits_total == 1);
  CHECK(day("2026-10-24").commute_sessions == 0);
  CHECK(day("2026-10-25").commute_sessions == 2);
  CHECK(day("2026-10-25").cards_distributed == 14);
  CHECK(store.stats(date("2026-03-01"), date("2026-06-30")) == store.recompute_stats(date("2026-03-01"), date("2026-06-30")));
  CHECK(store.stats(date("2026-03-01"), date("2026-06-30")).visits_total == 2);
}
