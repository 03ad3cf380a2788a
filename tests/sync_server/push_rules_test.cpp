// Push rules (protocol.md §3, §9): seq numbering with resends, gaps and rejected changes, and validation of each change including clock skew.
#include <catch2/catch.hpp>

#include <variant>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

safer::ReceivedPush batch_of(std::vector<std::pair<std::int64_t, Change>> changes) {
  safer::ReceivedPush batch;
  for (auto& [seq, change] : changes) batch.changes.push_back({seq, std::move(change), {}});
  return batch;
}

}  // namespace

TEST_CASE("a device's first push starts at seq 1 and acks the last seq of the batch", "[push][seq]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  CHECK(fixture.acked_seq(coordinator) == 0);

  const auto ack = fixture.push(coordinator, {upsert(uuid(1), household(), hlc(1)), upsert(uuid(2), household(), hlc(2))});
  CHECK(ack.acked_seq == 2);
  CHECK(ack.rejected.empty());
  CHECK(fixture.acked_seq(coordinator) == 2);
  CHECK(server_records(fixture.store()).size() == 2);

  SECTION("a first push that starts at seq 2 is a gap expecting 1") {
    auto fresh = fixture.enroll("fresh-tablet", "coord.dan", Role::coordinator);
    auto outcome = fixture.store().push(fresh.identity, batch_of({{2, upsert(uuid(3), household(), hlc(3))}}));
    REQUIRE(outcome.ok());
    REQUIRE(outcome->error.has_value());
    CHECK_FALSE(outcome->ack.has_value());
    CHECK(outcome->error->code == "seq_gap");
    CHECK(outcome->error->expected == 1);
    CHECK_FALSE(outcome->error->fatal);
    CHECK(fixture.acked_seq(fresh) == 0);
    CHECK(server_records(fixture.store()).count(key(Entity::household, uuid(3))) == 0);
  }
}

TEST_CASE("a resent change has no effect and is acked again", "[push][seq]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(coordinator, {upsert(uuid(1), household("Elstree"), hlc(1)), upsert(uuid(2), household(), hlc(2))});
  const auto before = server_records(fixture.store());

  // Seq 1 again, now carrying a newer version that would win if it were applied.
  auto outcome = fixture.store().push(coordinator.identity,
                                      batch_of({{1, upsert(uuid(1), household("Shenley"), hlc(50))}}));
  REQUIRE(outcome.ok());
  REQUIRE(outcome->ack.has_value());
  CHECK(outcome->ack->acked_seq == 2);
  CHECK(outcome->ack->rejected.empty());
  CHECK(outcome->applied == 0);
  CHECK(outcome->ignored == 1);
  CHECK(fixture.acked_seq(coordinator) == 2);
  const auto after = server_records(fixture.store());
  CHECK(std::get<Household>(*after.at(key(Entity::household, uuid(1))).change.data).ward == "Elstree");
  CHECK(after.at(key(Entity::household, uuid(1))).change.hlc == hlc(1));

  SECTION("a batch may resend acked changes and continue with new ones") {
    auto mixed = fixture.store().push(coordinator.identity,
                                      batch_of({{2, upsert(uuid(2), household("Shenley"), hlc(60))},
                                                {3, upsert(uuid(3), household(), hlc(61))}}));
    REQUIRE(mixed.ok());
    REQUIRE(mixed->ack.has_value());
    CHECK(mixed->ack->acked_seq == 3);
    CHECK(mixed->applied == 1);
    const auto records = server_records(fixture.store());
    CHECK(records.count(key(Entity::household, uuid(3))) == 1);
    CHECK(std::get<Household>(*records.at(key(Entity::household, uuid(2))).change.data).ward == "Elstree");
  }
}

TEST_CASE("a resent rejected change is reported again in rejected", "[push][seq]") {
  StoreFixture fixture;
  auto officer = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  Visit bad = visit(uuid(99));  // no such household
  const auto first = fixture.push(officer, {upsert(uuid(10), household(), hlc(1)), upsert(uuid(11), bad, hlc(2))});
  CHECK(first.acked_seq == 2);
  REQUIRE(first.rejected.size() == 1);
  CHECK(first.rejected[0].seq == 2);

  auto again = fixture.store().push(officer.identity,
                                    batch_of({{1, upsert(uuid(10), household(), hlc(1))}, {2, upsert(uuid(11), bad, hlc(2))}}));
  REQUIRE(again.ok());
  REQUIRE(again->ack.has_value());
  CHECK(again->ack->acked_seq == 2);
  REQUIRE(again->ack->rejected.size() == 1);
  CHECK(again->ack->rejected[0] == first.rejected[0]);
  CHECK(fixture.acked_seq(officer) == 2);
}

TEST_CASE("a gap or an out-of-order batch applies nothing and expects acked_seq + 1", "[push][seq]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(coordinator, upsert(uuid(1), household("Elstree"), hlc(1)));
  REQUIRE(fixture.acked_seq(coordinator) == 1);
  const auto before = server_records(fixture.store());
  const auto stats_before = fixture.store().stats(std::nullopt, std::nullopt);

  safer::ReceivedPush batch;
  SECTION("the batch skips a seq") {
    batch = batch_of({{3, upsert(uuid(2), household(), hlc(2))}});
  }
  SECTION("the batch starts right but then skips") {
    batch = batch_of({{2, upsert(uuid(2), target_household("Elstree", true, std::nullopt), hlc(2))},
                      {4, upsert(uuid(3), household(), hlc(3))}});
  }
  SECTION("the batch is out of order") {
    batch = batch_of({{3, upsert(uuid(3), household(), hlc(3))},
                      {2, upsert(uuid(2), target_household("Elstree", true, std::nullopt), hlc(2))}});
  }
  SECTION("the batch repeats a new seq") {
    batch = batch_of({{2, upsert(uuid(2), target_household("Elstree", true, std::nullopt), hlc(2))},
                      {2, upsert(uuid(3), household(), hlc(3))}});
  }
  SECTION("a resend is followed by a gap") {
    batch = batch_of({{1, upsert(uuid(1), household("Shenley"), hlc(9))},
                      {3, upsert(uuid(3), household(), hlc(3))}});
  }
  SECTION("an edit of an existing record sits after the gap") {
    batch = batch_of({{2, upsert(uuid(1), household("Shenley"), hlc(9))},
                      {4, upsert(uuid(3), household(), hlc(3))}});
  }
  auto outcome = fixture.store().push(coordinator.identity, batch);
  REQUIRE(outcome.ok());
  REQUIRE(outcome->error.has_value());
  CHECK_FALSE(outcome->ack.has_value());
  CHECK(outcome->error->code == "seq_gap");
  CHECK(outcome->error->expected == 2);
  CHECK_FALSE(outcome->error->fatal);
  CHECK(outcome->applied == 0);

  CHECK(fixture.acked_seq(coordinator) == 1);
  const auto after = server_records(fixture.store());
  REQUIRE(after.size() == before.size());
  CHECK(after.at(key(Entity::household, uuid(1))).change == before.at(key(Entity::household, uuid(1))).change);
  CHECK(fixture.store().stats(std::nullopt, std::nullopt) == stats_before);

  // The device recovers by sending seq 2.
  const auto ack = fixture.push_batch(coordinator.identity, batch_of({{2, upsert(uuid(2), household(), hlc(2))}}));
  CHECK(ack.acked_seq == 2);
}

TEST_CASE("acked_seq moves past rejected changes", "[push][seq]") {
  StoreFixture fixture;
  auto officer = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  Household bad_ward = household("Atlantis");
  const auto ack = fixture.push(officer, {upsert(uuid(1), bad_ward, hlc(1)), upsert(uuid(2), bad_ward, hlc(2))});
  CHECK(ack.acked_seq == 2);
  CHECK(ack.rejected.size() == 2);
  CHECK(fixture.acked_seq(officer) == 2);
  CHECK(server_records(fixture.store()).empty());

  // The next change is seq 3, not a resend of 1 or 2.
  const auto next = fixture.push(officer, upsert(uuid(3), household(), hlc(3)));
  CHECK(next.acked_seq == 3);
  CHECK(next.rejected.empty());
}

TEST_CASE("invalid data is rejected as invalid naming the field while the rest of the batch applies", "[push][validation]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(coordinator, upsert(uuid(1), household(), hlc(1)));

  Change bad;
  std::string field;
  SECTION("a ward not on the server's list") {
    bad = upsert(uuid(2), household("Atlantis"), hlc(2));
    field = "ward";
  }
  SECTION("a postcode that is not a UK postcode") {
    Household record = household();
    record.postcode = "NOT A POSTCODE";
    bad = upsert(uuid(2), record, hlc(2));
    field = "postcode";
  }
  SECTION("smoke detectors on a visit nobody answered") {
    Visit record = visit(uuid(1), VisitStatus::no_answer);
    record.smoke_detectors_fitted = 2;
    bad = upsert(uuid(2), record, hlc(2));
    field = "smoke_detectors_fitted";
  }
  SECTION("an outcome on a declined visit") {
    Visit record = visit(uuid(1), VisitStatus::declined);
    record.outcomes.insert(safer::Outcome::fire_safety_check);
    bad = upsert(uuid(2), record, hlc(2));
    field = "fire_safety_check";
  }
  SECTION("a station not on the server's list") {
    bad = upsert(uuid(2), session("Kings Cross"), hlc(2));
    field = "station";
  }
  SECTION("too many cards") {
    bad = upsert(uuid(2), session("Radlett", 5001), hlc(2));
    field = "cards_distributed";
  }
  SECTION("a session that ends before it starts") {
    CommuteSession record = session();
    record.ended_at = record.started_at - 1;
    bad = upsert(uuid(2), record, hlc(2));
    field = "ended_at";
  }
  const auto ack = fixture.push(coordinator, {bad, upsert(uuid(3), household(), hlc(3))});
  CHECK(ack.acked_seq == 3);
  const auto rejected = rejection(ack, 2);
  REQUIRE(rejected.has_value());
  CHECK(ack.rejected.size() == 1);
  CHECK(rejected->code == "invalid");
  CHECK(rejected->field == field);
  CHECK_THAT(rejected->message, Catch::Contains(field));
  const auto records = server_records(fixture.store());
  CHECK(records.count(key(bad.entity, uuid(2))) == 0);
  CHECK(records.count(key(Entity::household, uuid(3))) == 1);
}

TEST_CASE("valid data at the edge of each rule is accepted", "[push][validation]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Household lower_case = household();
  lower_case.postcode = "wd61wa";
  Visit ten = visit(uuid(1));
  ten.smoke_detectors_fitted = 10;
  CommuteSession instant = session("Elstree & Borehamwood", 5000);
  instant.ended_at = instant.started_at;
  const auto ack = fixture.push(coordinator, {upsert(uuid(1), lower_case, hlc(1)), upsert(uuid(2), ten, hlc(2)),
                                              upsert(uuid(3), instant, hlc(3))});
  CHECK(ack.rejected.empty());
  const auto records = server_records(fixture.store());
  CHECK(std::get<Household>(*records.at(key(Entity::household, uuid(1))).change.data).postcode == "WD6 1WA");
  CHECK(std::get<Visit>(*records.at(key(Entity::visit, uuid(2))).change.data).smoke_detectors_fitted == 10);
}

TEST_CASE("a change that could not be decoded is rejected with its field and the others apply", "[push][validation]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  const std::string text =
      R"({"type":"push","changes":[)"
      R"({"seq":1,"entity":"household","op":"upsert","id":")" + uuid(1) + R"(","hlc":")" + hlc(1).to_string() +
      R"(","data":{"address":"1 Example Road","postcode":"WD6 1WA","ward":"Elstree"}},)"
      R"({"seq":2,"entity":"visit","op":"upsert","id":")" + uuid(2) + R"(","hlc":")" + hlc(2).to_string() +
      R"(","data":{"household_id":")" + uuid(1) +
      R"(","visited_at":"2026-11-25T10:00:00Z","status":"completed","smoke_detectors_fitted":"two"}},)"
      R"({"seq":3,"entity":"meeting","op":"upsert","id":")" + uuid(3) + R"(","hlc":")" + hlc(3).to_string() +
      R"(","data":{}},)"
      R"({"seq":4,"entity":"visit","op":"upsert","id":")" + uuid(4) + R"(","hlc":")" + hlc(4).to_string() +
      R"(","data":{"household_id":")" + uuid(1) + R"(","visited_at":"2026-11-25T10:00:00Z","status":"completed"}}]})";
  const auto decoded = safer::decode_client_message(text);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<safer::ReceivedPush>(*decoded));
  const auto& batch = std::get<safer::ReceivedPush>(*decoded);
  REQUIRE_FALSE(batch.changes[1].change.has_value());

  const auto ack = fixture.push_batch(coordinator.identity, batch);
  CHECK(ack.acked_seq == 4);
  REQUIRE(ack.rejected.size() == 2);
  CHECK(ack.rejected[0].seq == 2);
  CHECK(ack.rejected[0].code == "invalid");
  CHECK(ack.rejected[0].field == "smoke_detectors_fitted");
  CHECK_THAT(ack.rejected[0].message, Catch::Contains("smoke_detectors_fitted"));
  CHECK(ack.rejected[1].seq == 3);
  CHECK(ack.rejected[1].code == "invalid");
  CHECK(ack.rejected[1].field == "entity");
  const auto records = server_records(fixture.store());
  CHECK(records.size() == 2);
  CHECK(records.count(key(Entity::visit, uuid(4))) == 1);
  CHECK(records.count(key(Entity::visit, uuid(2))) == 0);
}

TEST_CASE("an hlc more than an hour ahead of the server's clock is rejected as clock_skew", "[push][validation]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  const Hlc one_hour_ahead{kNow + kHour, 0};
  const Hlc past_one_hour{kNow + kHour + 1, 0};
  const auto ack = fixture.push(coordinator, {upsert(uuid(1), household(), one_hour_ahead),
                                              upsert(uuid(2), household(), past_one_hour),
                                              upsert(uuid(3), household(), Hlc{kNow + kHour, 99'999})});
  CHECK(ack.acked_seq == 3);
  REQUIRE(ack.rejected.size() == 1);
  CHECK(ack.rejected[0].seq == 2);
  CHECK(ack.rejected[0].code == "clock_skew");
  CHECK(ack.rejected[0].field == "hlc");
  CHECK_THAT(ack.rejected[0].message, Catch::Contains("hlc"));
  const auto records = server_records(fixture.store());
  CHECK(records.count(key(Entity::household, uuid(1))) == 1);
  CHECK(records.count(key(Entity::household, uuid(2))) == 0);
  CHECK(records.count(key(Entity::household, uuid(3))) == 1);

  SECTION("the limit follows the server's clock") {
    fixture.now += 10;
    const auto later = fixture.push(coordinator, upsert(uuid(4), household(), Hlc{kNow + kHour + 10, 0}));
    CHECK(later.rejected.empty());
  }
  SECTION("a delete far ahead is rejected too and leaves the record") {
    const auto later = fixture.push(coordinator, remove(Entity::household, uuid(1), Hlc{kNow + 2 * kHour, 0}));
    REQUIRE(later.rejected.size() == 1);
    CHECK(later.rejected[0].code == "clock_skew");
    CHECK(server_records(fixture.store()).at(key(Entity::household, uuid(1))).change.op == Op::upsert);
  }
}

// Why: the server encodes visits and sessions on its network threads (prepare_push), not on
// the one writer thread; what it stores and sends must be exactly what encoding them while
// applying gives, and households (completed with server-owned fields) must not be taken from it.
TEST_CASE("a push prepared ahead stores the same records as one encoded while applied", "[push][prepare]") {
  const std::vector<std::pair<std::int64_t, Change>> changes = {
      {1, upsert(uuid(1), household("Shenley"), hlc(1))},
      {2, upsert(uuid(2), visit(uuid(1)), hlc(2))},
      {3, upsert(uuid(3), session("Radlett", 25), hlc(3))},
      {4, upsert(uuid(4), visit(uuid(1), VisitStatus::no_answer), hlc(4))},
      {5, remove(Entity::visit, uuid(4), hlc(5))},
  };
  const auto batch = batch_of(changes);
  const auto prepared = ServerStore::prepare_push(batch);
  REQUIRE(prepared.size() == changes.size());
  CHECK(prepared[0].empty());  // a household: encoded when applied, with target and assigned_to
  CHECK(prepared[1] == safer::to_json(*changes[1].second.data));
  CHECK(prepared[2] == safer::to_json(*changes[2].second.data));
  CHECK(prepared[4].empty());  // a delete has no data

  StoreFixture encoded_when_applied;
  auto first = encoded_when_applied.enroll("coord-tablet", "coord.cat", Role::coordinator);
  encoded_when_applied.push_batch(first.identity, batch);

  StoreFixture encoded_ahead;
  auto second = encoded_ahead.enroll("coord-tablet", "coord.cat", Role::coordinator);
  encoded_ahead.store().begin_group();
  const auto outcome = encoded_ahead.store().apply_push(second.identity, batch, prepared);
  encoded_ahead.store().commit_group();
  REQUIRE(outcome.ack.has_value());
  CHECK(outcome.ack->rejected.empty());
  CHECK(outcome.applied == 5);

  const auto expected = server_records(encoded_when_applied.store());
  const auto held = server_records(encoded_ahead.store());
  REQUIRE(held.size() == expected.size());
  for (const auto& [record, version] : expected) {
    INFO(record);
    REQUIRE(held.count(record) == 1);
    CHECK(held.at(record).change.data == version.change.data);
    CHECK(held.at(record).change.hlc == version.change.hlc);
  }
  const auto stored = std::get<Household>(*held.at(key(Entity::household, uuid(1))).change.data);
  CHECK(stored.target == false);  // completed by the server, not taken from the device's JSON
  CHECK(encoded_ahead.store().stats(std::nullopt, std::nullopt) ==
        encoded_when_applied.store().stats(std::nullopt, std::nullopt));
}
