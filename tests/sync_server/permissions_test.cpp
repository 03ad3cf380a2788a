// Who may write what (protocol.md §5, §9): officers and PCSOs keep off server-owned fields and others' records, coordinators may do all.
#include <catch2/catch.hpp>

#include <variant>

#include "safer/protocol_json.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

// A coordinator, two officers (Ann with two tablets) and a PCSO, and households:
// uuid(1) assigned to Ann, uuid(2) assigned to Bob, uuid(3) unassigned (all by the coordinator).
struct Team {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  Device ann_phone = fixture.enroll("ann-phone", "officer.ann", Role::officer);
  Device bob = fixture.enroll("bob-tablet", "officer.bob", Role::officer);
  Device pat = fixture.enroll("pat-tablet", "pcso.pat", Role::pcso);

  Team() {
    const auto ack = fixture.push(coordinator, {upsert(uuid(1), target_household("Elstree", true, "officer.ann"), hlc(1)),
                                                upsert(uuid(2), target_household("Shenley", false, "officer.bob"), hlc(2)),
                                                upsert(uuid(3), target_household("Elstree", false, std::nullopt), hlc(3))});
    REQUIRE(ack.rejected.empty());
  }

  // Pushes one change and returns its rejection, if any.
  std::optional<safer::Rejection> try_push(Device& device, const Change& change) {
    const auto ack = fixture.push(device, change);
    REQUIRE(ack.rejected.size() <= 1);
    return ack.rejected.empty() ? std::nullopt : std::optional(ack.rejected.front());
  }

  Household stored_household(int number) {
    const auto records = server_records(fixture.store());
    const auto found = records.find(key(Entity::household, uuid(number)));
    REQUIRE(found != records.end());
    REQUIRE(found->second.change.data.has_value());
    return std::get<Household>(*found->second.change.data);
  }

  bool exists(Entity entity, int number) {
    const auto records = server_records(fixture.store());
    const auto found = records.find(key(entity, uuid(number)));
    return found != records.end() && found->second.change.op == Op::upsert;
  }
};

void check_forbidden(const std::optional<safer::Rejection>& rejected, const std::string& field) {
  REQUIRE(rejected.has_value());
  CHECK(rejected->code == "forbidden");
  CHECK(rejected->field == field);
  if (!field.empty()) CHECK_THAT(rejected->message, Catch::Contains(field));
}

}  // namespace

TEST_CASE("an officer or pcso may create a household but not set target or assigned_to", "[push][permissions]") {
  Team team;
  Device& field_user = GENERATE(0, 1) == 0 ? team.ann : team.pat;

  SECTION("target and assigned_to omitted: created as not a target and unassigned") {
    CHECK_FALSE(team.try_push(field_user, upsert(uuid(10), household(), hlc(10))));
    const auto stored = team.stored_household(10);
    CHECK(stored.target == false);
    CHECK(stored.assigned_to == std::optional<std::optional<std::string>>(std::optional<std::string>()));
  }
  SECTION("target false and assigned_to null given explicitly are fine") {
    CHECK_FALSE(team.try_push(field_user, upsert(uuid(10), target_household("Elstree", false, std::nullopt), hlc(10))));
    CHECK(team.exists(Entity::household, 10));
  }
  SECTION("target true is forbidden") {
    Household record = household();
    record.target = true;
    check_forbidden(team.try_push(field_user, upsert(uuid(10), record, hlc(10))), "target");
    CHECK_FALSE(team.exists(Entity::household, 10));
  }
  SECTION("assigned_to set, even to themselves, is forbidden") {
    Household record = household();
    record.assigned_to = field_user.identity.user_id;
    check_forbidden(team.try_push(field_user, upsert(uuid(10), record, hlc(10))), "assigned_to");
    CHECK_FALSE(team.exists(Entity::household, 10));
  }
}

TEST_CASE("an officer may update a household in scope but not its server-owned fields", "[push][permissions]") {
  Team team;
  // uuid(1) is assigned to Ann and a target; uuid(10) is created by Ann.
  REQUIRE_FALSE(team.try_push(team.ann, upsert(uuid(10), household("Elstree"), hlc(10))));

  SECTION("omitting target and assigned_to keeps them") {
    CHECK_FALSE(team.try_push(team.ann, upsert(uuid(1), household("Shenley"), hlc(20))));
    const auto stored = team.stored_household(1);
    CHECK(stored.ward == "Shenley");
    CHECK(stored.target == true);
    CHECK(stored.assignee() == std::optional<std::string>("officer.ann"));
    CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).households_target == 1);
  }
  SECTION("present and equal values are fine") {
    CHECK_FALSE(team.try_push(team.ann, upsert(uuid(1), target_household("Shenley", true, "officer.ann"), hlc(20))));
    CHECK(team.stored_household(1).ward == "Shenley");
  }
  SECTION("a household Ann created can be edited by her") {
    CHECK_FALSE(team.try_push(team.ann, upsert(uuid(10), household("Bushey North"), hlc(20))));
    CHECK(team.stored_household(10).ward == "Bushey North");
  }
  SECTION("a different target is forbidden") {
    check_forbidden(team.try_push(team.ann, upsert(uuid(1), target_household("Shenley", false, "officer.ann"), hlc(20))),
                    "target");
    CHECK(team.stored_household(1).ward == "Elstree");
  }
  SECTION("a different assignee is forbidden") {
    Household record = household("Shenley");
    record.assigned_to = std::optional<std::string>("officer.bob");
    check_forbidden(team.try_push(team.ann, upsert(uuid(1), record, hlc(20))), "assigned_to");
    CHECK(team.stored_household(1).ward == "Elstree");
  }
  SECTION("unassigning is forbidden") {
    Household record = household("Shenley");
    record.assigned_to = std::optional<std::string>();
    check_forbidden(team.try_push(team.ann, upsert(uuid(1), record, hlc(20))), "assigned_to");
  }
}

TEST_CASE("an officer may not update a household out of scope nor delete any household", "[push][permissions]") {
  Team team;
  SECTION("another officer's household") {
    const auto rejected = team.try_push(team.ann, upsert(uuid(2), household("Elstree"), hlc(20)));
    check_forbidden(rejected, "");
    CHECK_THAT(rejected->message, Catch::Contains(uuid(2)));  // says which record
    CHECK(team.stored_household(2).ward == "Shenley");
  }
  SECTION("an unassigned household") {
    check_forbidden(team.try_push(team.bob, upsert(uuid(3), household("Shenley"), hlc(20))), "");
    CHECK(team.stored_household(3).ward == "Elstree");
  }
  SECTION("a delete, even of their own household") {
    REQUIRE_FALSE(team.try_push(team.ann, upsert(uuid(10), household(), hlc(10))));
    check_forbidden(team.try_push(team.ann, remove(Entity::household, uuid(10), hlc(20))), "");
    check_forbidden(team.try_push(team.pat, remove(Entity::household, uuid(1), hlc(21))), "");
    CHECK(team.exists(Entity::household, 10));
    CHECK(team.exists(Entity::household, 1));
  }
}

TEST_CASE("a coordinator may set target and assigned_to and delete households", "[push][permissions]") {
  Team team;
  CHECK_FALSE(team.try_push(team.coordinator, upsert(uuid(2), target_household("Shenley", true, "officer.ann"), hlc(20))));
  const auto stored = team.stored_household(2);
  CHECK(stored.target == true);
  CHECK(stored.assignee() == std::optional<std::string>("officer.ann"));
  // A coordinator who omits the fields means the defaults, not "unchanged".
  CHECK_FALSE(team.try_push(team.coordinator, upsert(uuid(2), household("Shenley"), hlc(21))));
  CHECK(team.stored_household(2).target == false);
  CHECK_FALSE(team.stored_household(2).assignee().has_value());
  CHECK_FALSE(team.try_push(team.coordinator, remove(Entity::household, uuid(3), hlc(22))));
  CHECK_FALSE(team.exists(Entity::household, 3));
}

TEST_CASE("an officer records visits only to known households in scope", "[push][permissions]") {
  Team team;
  SECTION("a household assigned to them") {
    CHECK_FALSE(team.try_push(team.ann, upsert(uuid(20), visit(uuid(1)), hlc(20))));
    CHECK(team.exists(Entity::visit, 20));
  }
  SECTION("a household they created earlier in the same batch") {
    const auto ack = team.fixture.push(team.pat, {upsert(uuid(10), household(), hlc(10)),
                                                  upsert(uuid(20), visit(uuid(10)), hlc(11))});
    CHECK(ack.rejected.empty());
    CHECK(team.exists(Entity::visit, 20));
  }
  SECTION("a household out of scope is forbidden") {
    const auto rejected = team.try_push(team.ann, upsert(uuid(20), visit(uuid(2)), hlc(20)));
    check_forbidden(rejected, "");
    CHECK_THAT(rejected->message, Catch::Contains(uuid(2)));
    check_forbidden(team.try_push(team.ann, upsert(uuid(21), visit(uuid(3)), hlc(21))), "");
    CHECK_FALSE(team.exists(Entity::visit, 20));
    CHECK_FALSE(team.exists(Entity::visit, 21));
  }
  SECTION("an unknown household is invalid, naming household_id") {
    const auto rejected = team.try_push(team.coordinator, upsert(uuid(20), visit(uuid(77)), hlc(20)));
    REQUIRE(rejected.has_value());
    CHECK(rejected->code == "invalid");
    CHECK(rejected->field == "household_id");
    CHECK_FALSE(team.exists(Entity::visit, 20));
  }
  SECTION("a deleted (erased) household is refused as erased, naming household_id") {
    REQUIRE_FALSE(team.try_push(team.coordinator, remove(Entity::household, uuid(1), hlc(15))));
    const auto rejected = team.try_push(team.ann, upsert(uuid(20), visit(uuid(1)), hlc(20)));
    REQUIRE(rejected.has_value());
    CHECK(rejected->code == "erased");
    CHECK(rejected->field == "household_id");
    CHECK_FALSE(team.exists(Entity::visit, 20));
  }
}

TEST_CASE("an officer may update and delete only their own visits", "[push][permissions]") {
  Team team;
  // Ann's visit to her household, and a coordinator's visit to the same household.
  REQUIRE_FALSE(team.try_push(team.ann, upsert(uuid(20), visit(uuid(1)), hlc(20))));
  REQUIRE_FALSE(team.try_push(team.coordinator, upsert(uuid(21), visit(uuid(1)), hlc(21))));

  SECTION("their own: update and delete") {
    CHECK_FALSE(team.try_push(team.ann, upsert(uuid(20), visit(uuid(1), VisitStatus::no_answer), hlc(30))));
    CHECK_FALSE(team.try_push(team.ann, remove(Entity::visit, uuid(20), hlc(31))));
    CHECK_FALSE(team.exists(Entity::visit, 20));
  }
  SECTION("another user's visit, even to their household") {
    check_forbidden(team.try_push(team.ann, upsert(uuid(21), visit(uuid(1), VisitStatus::declined), hlc(30))), "");
    check_forbidden(team.try_push(team.ann, remove(Entity::visit, uuid(21), hlc(31))), "");
    CHECK(team.exists(Entity::visit, 21));
  }
  SECTION("another officer may not touch Ann's visit") {
    check_forbidden(team.try_push(team.bob, remove(Entity::visit, uuid(20), hlc(31))), "");
    CHECK(team.exists(Entity::visit, 20));
  }
  SECTION("moving their visit to a household out of scope is forbidden") {
    check_forbidden(team.try_push(team.ann, upsert(uuid(20), visit(uuid(2)), hlc(30))), "");
    const auto records = server_records(team.fixture.store());
    CHECK(std::get<Visit>(*records.at(key(Entity::visit, uuid(20))).change.data).household_id == uuid(1));
  }
  SECTION("a coordinator may edit and delete anyone's visit") {
    CHECK_FALSE(team.try_push(team.coordinator, upsert(uuid(20), visit(uuid(3)), hlc(30))));
    CHECK_FALSE(team.try_push(team.coordinator, remove(Entity::visit, uuid(20), hlc(31))));
    CHECK_FALSE(team.exists(Entity::visit, 20));
  }
}

TEST_CASE("commute sessions may be changed only by their owner or a coordinator", "[push][permissions]") {
  Team team;
  REQUIRE_FALSE(team.try_push(team.pat, upsert(uuid(30), session("Radlett", 5), hlc(20))));
  CHECK_FALSE(team.try_push(team.pat, upsert(uuid(30), session("Radlett", 7), hlc(21))));

  check_forbidden(team.try_push(team.bob, upsert(uuid(30), session("Radlett", 900), hlc(22))), "");
  check_forbidden(team.try_push(team.bob, remove(Entity::commute_session, uuid(30), hlc(23))), "");
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).cards_distributed == 7);

  CHECK_FALSE(team.try_push(team.coordinator, upsert(uuid(30), session("Radlett", 8), hlc(24))));
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).cards_distributed == 8);
  CHECK_FALSE(team.try_push(team.pat, remove(Entity::commute_session, uuid(30), hlc(25))));
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).commute_sessions == 0);
}

TEST_CASE("identity comes from the device and two devices of one user share their records", "[push][permissions]") {
  Team team;
  // Ann's phone sends a visit whose data claims it was recorded by Bob.
  const std::string text = R"({"type":"push","changes":[{"seq":1,"entity":"visit","op":"upsert","id":")" + uuid(20) +
                           R"(","hlc":")" + hlc(20).to_string() + R"(","data":{"household_id":")" + uuid(1) +
                           R"(","visited_at":"2026-11-25T10:00:00Z","status":"completed",)"
                           R"("recorded_by":"officer.bob","device_id":"bob-tablet","user_id":"officer.bob"}}]})";
  const auto decoded = safer::decode_client_message(text);
  REQUIRE(decoded.ok());
  const auto ack = team.fixture.push_batch(team.ann_phone.identity, std::get<safer::ReceivedPush>(*decoded));
  REQUIRE(ack.rejected.empty());
  team.ann_phone.next_seq = 2;
  const auto records = server_records(team.fixture.store());
  CHECK(records.at(key(Entity::visit, uuid(20))).device_id == "ann-phone");

  check_forbidden(team.try_push(team.bob, upsert(uuid(20), visit(uuid(1), VisitStatus::declined), hlc(30))), "");
  // Ann's tablet may edit what her phone recorded, and her phone what her tablet recorded.
  CHECK_FALSE(team.try_push(team.ann, upsert(uuid(20), visit(uuid(1), VisitStatus::no_answer), hlc(31))));
  REQUIRE_FALSE(team.try_push(team.ann, upsert(uuid(31), session("Potters Bar", 3), hlc(32))));
  CHECK_FALSE(team.try_push(team.ann_phone, remove(Entity::commute_session, uuid(31), hlc(33))));
  CHECK(team.fixture.store().stats(std::nullopt, std::nullopt).visits_by_status[1] == 1);  // no_answer
}
