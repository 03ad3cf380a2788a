// Pull (protocol.md §4): winning versions in commit order that never skip a change, tombstones as deletes, cursors only this store honours.
#include <catch2/catch.hpp>

#include <variant>

#include "safer/pg.h"
#include "safer/protocol_json.h"
#include "safer/sqlite.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

const DeviceIdentity kCoordinator{"coord-tablet", "coord.cat", Role::coordinator};

std::vector<std::string> ids_of(const std::vector<safer::PulledChange>& changes) {
  std::vector<std::string> ids;
  for (const auto& change : changes) ids.push_back(change.change.id);
  return ids;
}

}  // namespace

TEST_CASE("a pull from the empty cursor returns every winning version in commit order", "[pull]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  auto other = fixture.enroll("other-tablet", "coord.dan", Role::coordinator);
  fixture.push(tablet, upsert(uuid(3), household("Elstree"), hlc(1)));
  fixture.push(tablet, upsert(uuid(1), household("Shenley"), hlc(2)));
  fixture.push(other, upsert(uuid(2), household("Bushey North"), hlc(3)));
  fixture.push(tablet, upsert(uuid(3), household("Bushey Park"), hlc(4)));  // moves to the end
  fixture.push(other, upsert(uuid(1), household("Elstree"), hlc(1)));       // loses: no new version

  const auto [changes, cursor] = pull_all(fixture.store(), kCoordinator);
  CHECK(ids_of(changes) == std::vector<std::string>{uuid(1), uuid(2), uuid(3)});
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].device_id == "coord-tablet");
  CHECK(std::get<Household>(*changes[0].change.data).ward == "Shenley");
  CHECK(changes[1].device_id == "other-tablet");
  CHECK(changes[2].change.hlc == hlc(4));
  CHECK(std::get<Household>(*changes[2].change.data).ward == "Bushey Park");
  CHECK(changes[2].change.entity == Entity::household);
  CHECK(changes[2].change.op == Op::upsert);
  CHECK_FALSE(cursor.empty());

  SECTION("the final cursor has nothing more") {
    auto page = fixture.store().pull(kCoordinator, {cursor, 10});
    REQUIRE(page.ok());
    CHECK(page->changes.empty());
    CHECK_FALSE(page->has_more);
  }
  SECTION("a page of one at a time gives the same sequence") {
    const auto [paged, last] = pull_all(fixture.store(), kCoordinator, "", 1);
    CHECK(ids_of(paged) == ids_of(changes));
  }
  SECTION("has_more is set only when more is there") {
    auto first = fixture.store().pull(kCoordinator, {"", 2});
    REQUIRE(first.ok());
    CHECK(first->changes.size() == 2);
    CHECK(first->has_more);
    auto second = fixture.store().pull(kCoordinator, {first->cursor, 2});
    REQUIRE(second.ok());
    CHECK(ids_of(second->changes) == std::vector<std::string>{uuid(3)});
    CHECK_FALSE(second->has_more);
    auto exact = fixture.store().pull(kCoordinator, {"", 3});
    REQUIRE(exact.ok());
    CHECK(exact->changes.size() == 3);
    CHECK_FALSE(exact->has_more);
  }
}

TEST_CASE("a pull continued after more writes never misses a change", "[pull]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  for (int i = 1; i <= 5; ++i) fixture.push(tablet, upsert(uuid(i), household(), hlc(i)));

  auto first = fixture.store().pull(kCoordinator, {"", 2});
  REQUIRE(first.ok());
  REQUIRE(first->has_more);
  std::vector<safer::PulledChange> seen = first->changes;

  // Between pages: a record already sent and a record not yet sent change, and one is new.
  fixture.push(tablet, {upsert(uuid(1), household("Shenley"), hlc(20)), upsert(uuid(4), household("Bushey Park"), hlc(21)),
                        upsert(uuid(6), household(), hlc(22))});
  fixture.push(tablet, remove(Entity::household, uuid(2), hlc(23)));
  const auto [rest, cursor] = pull_all(fixture.store(), kCoordinator, first->cursor, 2);
  seen.insert(seen.end(), rest.begin(), rest.end());

  // Applying everything seen in order gives exactly what the server holds.
  const auto held = latest(seen);
  const auto truth = server_records(fixture.store());
  REQUIRE(held.size() == truth.size());
  for (const auto& [record, change] : truth) {
    REQUIRE(held.count(record) == 1);
    CHECK(held.at(record).change == change.change);
    CHECK(held.at(record).device_id == change.device_id);
  }
  CHECK(truth.size() == 6);
  // The rest came in commit order: 3 and 5 (unchanged), then 1, 4, 6, then the delete of 2.
  CHECK(ids_of(rest) == std::vector<std::string>{uuid(3), uuid(5), uuid(1), uuid(4), uuid(6), uuid(2)});
}

TEST_CASE("a deleted record is pulled as a delete without data", "[pull]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  auto other = fixture.enroll("other-tablet", "coord.dan", Role::coordinator);
  fixture.push(tablet, {upsert(uuid(1), household(), hlc(1)), upsert(uuid(2), visit(uuid(1)), hlc(2)),
                        upsert(uuid(3), session(), hlc(3))});
  fixture.push(other, {remove(Entity::visit, uuid(2), hlc(10)), remove(Entity::commute_session, uuid(3), hlc(11)),
                       remove(Entity::household, uuid(1), hlc(12))});

  const auto changes = pull_all(fixture.store(), kCoordinator).first;
  REQUIRE(changes.size() == 3);
  for (const auto& change : changes) {
    CHECK(change.change.op == Op::remove);
    CHECK_FALSE(change.change.data.has_value());
    CHECK(change.device_id == "other-tablet");
  }
  CHECK(changes[0].change.entity == Entity::visit);
  CHECK(changes[1].change.entity == Entity::commute_session);
  CHECK(changes[2].change.entity == Entity::household);
  CHECK(changes[2].change.hlc == hlc(12));
}

TEST_CASE("a cursor the store cannot honour is cursor_invalid", "[pull][cursor][sqlite-only]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(tablet, {upsert(uuid(1), household(), hlc(1)), upsert(uuid(2), household(), hlc(2))});
  const std::string good = pull_all(fixture.store(), kCoordinator).second;
  const std::string epoch = good.substr(0, good.find('.'));
  REQUIRE(good.find('.') != std::string::npos);
  // The newest version itself and every older one are fine.
  auto newest = fixture.store().pull(kCoordinator, {epoch + ".2", 10});
  REQUIRE(newest.ok());
  CHECK(newest->changes.empty());
  auto older = fixture.store().pull(kCoordinator, {epoch + ".1", 10});
  REQUIRE(older.ok());
  CHECK(ids_of(older->changes) == std::vector<std::string>{uuid(2)});

  std::string cursor = "?";
  SECTION("garbage") { cursor = "not-a-cursor"; }
  SECTION("a version beyond the newest") { cursor = epoch + ".3"; }
  SECTION("far beyond the newest") { cursor = epoch + ".99999999999999999999"; }
  SECTION("a negative version") { cursor = epoch + ".-1"; }
  SECTION("no version") { cursor = epoch + "."; }
  SECTION("trailing text") { cursor = good + "x"; }
  SECTION("the epoch alone") { cursor = epoch; }
  SECTION("a cursor of another store file") {
    StoreFixture elsewhere;
    auto stranger = elsewhere.enroll("coord-tablet", "coord.cat", Role::coordinator);
    elsewhere.push(stranger, {upsert(uuid(1), household(), hlc(1)), upsert(uuid(2), household(), hlc(2)),
                              upsert(uuid(3), household(), hlc(3))});
    auto page = elsewhere.store().pull(kCoordinator, {"", 1});
    REQUIRE(page.ok());
    cursor = page->cursor;
    REQUIRE(cursor != good);
  }
  auto page = fixture.store().pull(kCoordinator, {cursor, 10});
  REQUIRE_FALSE(page.ok());
  CHECK(page.error().code == "cursor_invalid");
}

TEST_CASE("a cursor stays valid when the store is reopened", "[pull][cursor]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(tablet, upsert(uuid(1), household(), hlc(1)));
  const std::string cursor = pull_all(fixture.store(), kCoordinator).second;
  fixture.reopen();
  fixture.push(tablet, upsert(uuid(2), household(), hlc(2)));
  auto page = fixture.store().pull(kCoordinator, {cursor, 10});
  REQUIRE(page.ok());
  CHECK(ids_of(page->changes) == std::vector<std::string>{uuid(2)});
}

TEST_CASE("a reader on another connection sees only committed versions and misses none", "[pull]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(tablet, upsert(uuid(1), household(), hlc(1)));
  auto reader = fixture.open_store(fixture.path());
  const auto [first, cursor] = pull_all(*reader, kCoordinator);
  CHECK(ids_of(first) == std::vector<std::string>{uuid(1)});

  // The writer has applied a batch but not committed it yet.
  auto& writer = fixture.store();
  writer.begin_group();
  const auto outcome = writer.apply_push(tablet.identity, {{{2, upsert(uuid(2), target_household("Elstree", true, std::nullopt), hlc(2)), {}},
                                                           {3, upsert(uuid(1), household("Shenley"), hlc(3)), {}}}});
  REQUIRE(outcome.ack.has_value());
  auto during = reader->pull(kCoordinator, {cursor, 10});
  REQUIRE(during.ok());
  CHECK(during->changes.empty());
  CHECK(reader->stats(std::nullopt, std::nullopt).households_target == 0);
  writer.commit_group();

  const auto [after, last] = pull_all(*reader, kCoordinator, during->cursor);
  CHECK(ids_of(after) == std::vector<std::string>{uuid(2), uuid(1)});
  CHECK(reader->device("coord-tablet")->acked_seq == 3);
  CHECK(reader->stats(std::nullopt, std::nullopt).households_target == 1);
}

namespace {

// Every kind of record, with every field the visit form has, and a tombstone.
StoreFixture& fill_every_kind(StoreFixture& fixture) {
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Household home = target_household("Shenley", true, "officer.ann");
  home.vulnerability = {safer::Vulnerability::elderly, safer::Vulnerability::lives_alone};
  Visit full = visit(uuid(1), VisitStatus::completed, at("2026-11-20T10:15:00Z"));
  full.outcomes = {safer::Outcome::fire_safety_check, safer::Outcome::follow_up_required};
  full.smoke_detectors_fitted = 2;
  full.referrals = {safer::Referral::fire_service, safer::Referral::victim_support};
  full.share_basis = safer::ShareBasis::consent;
  full.notes = "Fictional note: \"quoted\", a tab\t, a line\nbreak, caf\u00e9 and \U0001F600";
  full.follow_up_due = "2026-12-04";
  full.answers = {{"feels_safe", std::int64_t{4}}, {"feedback", std::string("Fictional feedback")}};
  Visit later = visit(uuid(1), VisitStatus::rescheduled, at("2026-11-21T09:00:00Z"));
  later.rescheduled_for = "2026-11-28T14:30";
  fixture.push(tablet, upsert(uuid(1), home, hlc(1)));
  fixture.push(tablet, upsert(uuid(11), full, hlc(2)));
  fixture.push(tablet, upsert(uuid(12), later, hlc(3)));
  fixture.push(tablet, upsert(uuid(13), visit(uuid(1)), hlc(4)));
  fixture.push(tablet, remove(Entity::visit, uuid(13), hlc(5)));
  fixture.push(tablet, upsert(uuid(21), session("Potters Bar", 12), hlc(6)));
  return fixture;
}

safer::ChangesPage page_of(StoreFixture& fixture, ServerStore::Data form) {
  auto page = fixture.store().pull(kCoordinator, {"", 100}, ServerStore::Evictions::omit,
                                   ServerStore::Progress{false, std::nullopt}, form);
  REQUIRE(page.ok());
  REQUIRE(page->changes.size() == 5);
  return *page;
}

}  // namespace

TEST_CASE("a page sent with the data as stored is the page of the decoded records, byte for byte", "[pull]") {
  StoreFixture fixture;
  fill_every_kind(fixture);
  const auto decoded = page_of(fixture, ServerStore::Data::decoded);
  const auto stored = page_of(fixture, ServerStore::Data::stored);
  for (std::size_t i = 0; i < stored.changes.size(); ++i) {
    INFO(stored.changes[i].change.id);
    CHECK_FALSE(stored.changes[i].change.data.has_value());  // never decoded
    CHECK(stored.changes[i].stored_data.empty() == (stored.changes[i].change.op == Op::remove));
  }
  CHECK(safer::to_json(stored) == safer::to_json(decoded));
}

TEST_CASE("data stored by an older writer's JSON is sent as stored and reads as the same records", "[pull]") {
  StoreFixture fixture;
  fill_every_kind(fixture);
  const auto decoded = page_of(fixture, ServerStore::Data::decoded);
  fixture.reopen();
  {
    // cereal's JSON, which wrote the records before issue 17, put a space after each colon.
    const char* respace = "UPDATE records SET data = replace(data, '\":', '\": ') WHERE data IS NOT NULL";
    if (test_support::testing_postgresql()) {
      safer::pg::Connection(fixture.path()).exec(respace);
    } else {
      safer::sqlite::Database(fixture.path()).exec(respace);
    }
  }
  fixture.reopen();
  const auto stored = page_of(fixture, ServerStore::Data::stored);
  const std::string text = safer::to_json(stored);
  CHECK(text != safer::to_json(decoded));
  CHECK(text.find("\"status\": \"completed\"") != std::string::npos);
  // What a client reads from it: the same records.
  auto read = safer::decode_server_message(text);
  REQUIRE(read.ok());
  const auto* page = std::get_if<safer::ChangesPage>(&*read);
  REQUIRE(page != nullptr);
  REQUIRE(page->changes.size() == decoded.changes.size());
  for (std::size_t i = 0; i < decoded.changes.size(); ++i) {
    INFO(decoded.changes[i].change.id);
    CHECK(page->changes[i].change.data == decoded.changes[i].change.data);
    CHECK(page->changes[i].change.hlc == decoded.changes[i].change.hlc);
    CHECK(page->changes[i].device_id == decoded.changes[i].device_id);
  }
}
