// The field client's store keeps what an officer records: every write is whole or absent,
// seq and HLC only move forward, and nothing unsynced can be deleted.
#include <catch2/catch.hpp>

#include "field_client/store.h"
#include "safer/protocol_json.h"
#include "safer/sqlite.h"
#include "safer/uuid.h"
#include "faulty_vfs.h"
#include "temp_dir.h"

namespace {

using field_client::OutboxState;
using field_client::Store;
using safer::Entity;

safer::Household sample_household() {
  safer::Household household;
  household.address = "3 Fictional Gardens";
  household.postcode = "en6 1aa";
  household.ward = "Potters Bar Oakmere";
  return household;
}

safer::Visit sample_visit(const std::string& household_id) {
  safer::Visit visit;
  visit.household_id = household_id;
  visit.visited_at = 1'764'149'400'000;
  visit.status = safer::VisitStatus::completed;
  visit.outcomes = {safer::Outcome::fire_safety_check};
  visit.smoke_detectors_fitted = 2;
  return visit;
}

safer::CommuteSession sample_session() {
  safer::CommuteSession session;
  session.station = "Radlett";
  session.started_at = 1'764'140'000'000;
  session.ended_at = session.started_at + 2 * 3'600'000;  // ended on its day (store.h: sessions end at midnight)
  session.cards_distributed = 12;
  return session;
}

std::unique_ptr<Store> open_store(const std::string& path, field_client::StoreOptions options = {}) {
  auto store = Store::open(path, std::move(options));
  REQUIRE(store.ok());
  return std::move(*store);
}

std::int64_t count(safer::sqlite::Database& db, const char* sql) {
  auto statement = db.cached(sql);
  REQUIRE(statement->step());
  return statement->column_int(0);
}

}  // namespace

TEST_CASE("a new store gets a device id that it keeps", "[store]") {
  test_support::TempDir dir;
  std::string first;
  {
    auto store = open_store(dir.file("s.db"));
    first = store->device()->device_id;
    CHECK(safer::is_canonical_uuid(first));
  }
  auto reopened = open_store(dir.file("s.db"));
  CHECK(reopened->device()->device_id == first);
  CHECK(open_store(dir.file("other.db"))->device()->device_id != first);
}

TEST_CASE("each write queues one outbox entry with the next seq and a greater HLC", "[store]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto household = store->create(sample_household());
  REQUIRE(household.ok());
  const auto visit = store->create(sample_visit(*household));
  REQUIRE(visit.ok());
  REQUIRE(store->create(sample_session()).ok());
  REQUIRE(store->update(*visit, sample_visit(*household)).ok());
  REQUIRE(store->remove(Entity::visit, *visit).ok());

  const auto entries = store->outbox().value();
  REQUIRE(entries.size() == 5);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CHECK(entries[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(entries[i].state == OutboxState::pending);
    if (i > 0) CHECK(entries[i - 1].change.hlc < entries[i].change.hlc);
  }
  CHECK(entries[4].change.op == safer::Op::remove);
  CHECK_FALSE(entries[4].change.data.has_value());

  SECTION("the postcode is stored in its normal form") {
    const auto stored = store->get(Entity::household, *household);
    REQUIRE(stored);
    CHECK(std::get<safer::Household>(*stored->data).postcode == "EN6 1AA");
  }
  SECTION("pending(limit) gives the first pending entries in seq order, whole, and after an ack the next") {
    const auto first = store->pending(2).value();
    REQUIRE(first.size() == 2);
    CHECK(first[0].seq == 1);
    CHECK(first[1].seq == 2);
    CHECK(first[1].change.data == entries[1].change.data);
    REQUIRE(store->apply_ack({2, {}}).ok());
    const auto rest = store->pending(10).value();
    REQUIRE(rest.size() == 3);
    CHECK(rest[0].seq == 3);
    CHECK(rest[2].seq == 5);
    CHECK_FALSE(rest[2].change.data.has_value());  // the delete
    CHECK(store->pending(0).value().empty());
  }
  SECTION("pending with the data as stored gives the outbox's text, which a push carries as it would the record") {
    const auto decoded = store->pending(10).value();
    const auto stored = store->pending(10, field_client::OutboxData::stored).value();
    REQUIRE(stored.size() == decoded.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
      INFO("seq " << stored[i].seq);
      CHECK_FALSE(stored[i].change.data.has_value());
      CHECK(stored[i].stored_data.empty() == !decoded[i].change.data.has_value());
      const safer::Push as_stored{{{stored[i].seq, stored[i].change, stored[i].stored_data}}};
      const safer::Push as_decoded{{{decoded[i].seq, decoded[i].change}}};
      CHECK(safer::to_json(as_stored) == safer::to_json(as_decoded));
    }
  }
  SECTION("outbox text that is not a JSON object is decoded instead, never put into a push as it is") {
    safer::sqlite::Database(dir.file("s.db")).exec("UPDATE outbox SET data = '{\"ward\":' WHERE seq = 1");
    const auto stored = store->pending(1, field_client::OutboxData::stored).value();
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].stored_data.empty());
    CHECK_FALSE(stored[0].change.data.has_value());  // unreadable: the server refuses the change alone
    CHECK(safer::to_json(safer::Push{{{stored[0].seq, stored[0].change, stored[0].stored_data}}}).find("\"seq\":1") !=
          std::string::npos);
  }
  SECTION("a deleted record stays as a pending tombstone") {
    const auto stored = store->get(Entity::visit, *visit);
    REQUIRE(stored);
    CHECK(stored->deleted);
    CHECK(stored->state == field_client::SyncState::pending);
    CHECK(store->list(Entity::visit)->empty());
    CHECK(store->list(Entity::visit, true)->size() == 1);
  }
}

TEST_CASE("a failure between the record write and the outbox write keeps neither", "[store][atomicity]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto household = store->create(sample_household());
  REQUIRE(household.ok());

  // Another connection makes the outbox insert fail, after the record row was written.
  safer::sqlite::Database other(dir.file("s.db"));
  other.exec("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

  const auto failed = store->create(sample_visit(*household));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == "storage");
  CHECK(failed.error().message.find("nothing was saved") != std::string::npos);
  CHECK(count(other, "SELECT count(*) FROM records WHERE entity = 'visit'") == 0);
  CHECK(count(other, "SELECT count(*) FROM outbox") == 1);
  CHECK(count(other, "SELECT value FROM meta WHERE key = 'last_seq'") == 1);

  other.exec("DROP TRIGGER fail_outbox");
  REQUIRE(store->create(sample_visit(*household)).ok());
  CHECK(count(other, "SELECT max(seq) FROM outbox") == 2);  // no gap where the failure was
}

TEST_CASE("invalid records are refused with every problem and write nothing", "[store]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  auto household = sample_household();
  household.postcode = "not a postcode";
  household.ward = "Atlantis";
  const auto refused = store->create(household);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid");
  CHECK(refused.error().field == "postcode");
  CHECK(refused.error().message.find("ward") != std::string::npos);

  SECTION("a visit to a household the device does not hold") {
    const auto visit = store->create(sample_visit("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"));
    REQUIRE_FALSE(visit.ok());
    CHECK(visit.error().field == "household_id");
  }
  CHECK(store->outbox()->empty());
  CHECK(store->summary()->last_seq == 0);
}

TEST_CASE("HLCs keep increasing across restarts when the wall clock steps back", "[store][hlc]") {
  test_support::TempDir dir;
  std::int64_t now = 1'764'149'400'000;
  field_client::StoreOptions options;
  options.wall_clock = [&now] { return now; };
  safer::Hlc before;
  {
    auto store = open_store(dir.file("s.db"), options);
    REQUIRE(store->create(sample_session()).ok());
    before = store->outbox()->back().change.hlc;
  }
  now -= 3'600'000;  // the tablet's clock is set back an hour
  auto store = open_store(dir.file("s.db"), options);
  REQUIRE(store->create(sample_session()).ok());
  REQUIRE(store->create(sample_session()).ok());
  const auto entries = store->outbox().value();
  REQUIRE(entries.size() == 3);
  CHECK(before < entries[1].change.hlc);
  CHECK(entries[1].change.hlc < entries[2].change.hlc);
  CHECK(entries[2].change.hlc.millis == before.millis);
}

TEST_CASE("unsynced changes and records cannot be deleted, even by another program", "[store]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto household = store->create(sample_household());
  REQUIRE(household.ok());
  safer::sqlite::Database other(dir.file("s.db"));
  CHECK_THROWS_AS(other.exec("DELETE FROM outbox"), safer::sqlite::Failure);
  CHECK_THROWS_AS(other.exec("DELETE FROM records"), safer::sqlite::Failure);
  CHECK(count(other, "SELECT count(*) FROM outbox") == 1);
  CHECK(count(other, "SELECT count(*) FROM records") == 1);

  SECTION("once acknowledged, an outbox entry may be pruned") {
    other.exec("UPDATE outbox SET state = 'acked'");
    other.exec("DELETE FROM outbox");
    CHECK(count(other, "SELECT count(*) FROM outbox") == 0);
  }
}

TEST_CASE("two stores on one file never reuse a seq", "[store][concurrency]") {
  test_support::TempDir dir;
  auto first = open_store(dir.file("s.db"));
  auto second = open_store(dir.file("s.db"));
  CHECK(first->device()->device_id == second->device()->device_id);
  for (int i = 0; i < 20; ++i) {
    REQUIRE((i % 2 == 0 ? first : second)->create(sample_session()).ok());
  }
  const auto entries = first->outbox().value();
  REQUIRE(entries.size() == 20);
  for (std::size_t i = 0; i < entries.size(); ++i) CHECK(entries[i].seq == static_cast<std::int64_t>(i + 1));
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].change.hlc < entries[i].change.hlc);
}

TEST_CASE("updates replace the whole record, and unknown or deleted ids are not found", "[store]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto household = store->create(sample_household());
  REQUIRE(household.ok());
  auto visit = sample_visit(*household);
  const auto id = store->create(visit);
  REQUIRE(id.ok());
  visit.notes = "Second visit arranged.";
  visit.outcomes.insert(safer::Outcome::follow_up_required);
  visit.follow_up_due = "2026-12-18";
  REQUIRE(store->update(*id, visit).ok());
  const auto stored = store->get(Entity::visit, *id);
  REQUIRE(stored);
  CHECK(std::get<safer::Visit>(*stored->data) == visit);
  CHECK(std::get<safer::Visit>(*store->outbox()->back().change.data) == visit);

  const auto missing = store->update("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b", visit);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");
  REQUIRE(store->remove(Entity::visit, *id).ok());
  const auto after_delete = store->update(*id, visit);
  REQUIRE_FALSE(after_delete.ok());
  CHECK(after_delete.error().code == "not_found");
  CHECK(store->outbox()->size() == 4);
}

TEST_CASE("an officer's device keeps the server-owned household fields to the coordinator", "[store][permissions]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));

  auto targeted = sample_household();
  targeted.target = true;
  auto refused = store->create(targeted);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "forbidden");
  CHECK(refused.error().field == "target");

  auto assigned = sample_household();
  assigned.assigned_to = std::optional<std::string>("officer.bob");
  refused = store->create(assigned);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "assigned_to");

  auto plain = sample_household();
  plain.target = false;  // equal to the default: allowed, and not sent
  const auto created = store->create(plain);
  REQUIRE(created.ok());
  const auto sent = std::get<safer::Household>(*store->outbox()->back().change.data);
  CHECK_FALSE(sent.target.has_value());
  CHECK_FALSE(sent.assigned_to.has_value());

  const auto deleted = store->remove(Entity::household, *created);
  REQUIRE_FALSE(deleted.ok());
  CHECK(deleted.error().code == "forbidden");
  CHECK(store->outbox()->size() == 1);
}

TEST_CASE("a disk that fills while the store is open fails the write clearly and keeps the rest", "[store][disk]") {
  const test_support::faulty_vfs::Installed faulty_disk;
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto household = store->create(sample_household());
  REQUIRE(household.ok());
  auto visit = sample_visit(*household);
  visit.notes = std::string(2000, 'n');

  test_support::faulty_vfs::set_free_space(0);
  int refused = 0;
  for (int i = 0; i < 50; ++i) {  // the write-ahead log may have room for a few at first
    const auto result = store->create(visit);
    if (!result.ok()) {
      CHECK(result.error().code == "storage_full");
      CHECK(result.error().message.find("nothing was saved") != std::string::npos);
      ++refused;
    }
  }
  test_support::faulty_vfs::set_free_space(std::nullopt);
  CHECK(refused > 0);

  const auto entries = store->outbox().value();
  REQUIRE(entries.size() == static_cast<std::size_t>(51 - refused));
  for (std::size_t i = 0; i < entries.size(); ++i) CHECK(entries[i].seq == static_cast<std::int64_t>(i + 1));
  CHECK(store->list(Entity::visit)->size() == entries.size() - 1);
  REQUIRE(store->create(visit).ok());  // space is back
  CHECK(store->outbox()->back().seq == static_cast<std::int64_t>(entries.size() + 1));
}

// Reads used to throw sqlite::Failure on an I/O error, and the command line or the tablet
// app died with it; they must fail the way writes do, as an Error value.
TEST_CASE("a store that cannot be read answers every read with a storage error, never a throw", "[store][disk]") {
  const test_support::faulty_vfs::Installed faulty_disk;
  test_support::TempDir dir;
  auto reader = open_store(dir.file("s.db"));
  auto writer = open_store(dir.file("s.db"));  // its writes make `reader` drop its page cache
  const auto household = writer->create(sample_household());
  REQUIRE(household.ok());

  // Runs `read` on `reader` while every read of the file fails, and returns its Error.
  const auto failed_read = [&](auto read) -> safer::Error {
    REQUIRE(writer->create(sample_session()).ok());
    test_support::faulty_vfs::set_reads_fail(true);
    const auto result = read();
    test_support::faulty_vfs::set_reads_fail(false);
    REQUIRE_FALSE(result.ok());
    return result.error();
  };
  std::vector<safer::Error> errors;
  errors.push_back(failed_read([&] { return reader->list(Entity::household); }));
  errors.push_back(failed_read([&] { return reader->get(Entity::household, *household); }));
  errors.push_back(failed_read([&] { return reader->outbox(); }));
  errors.push_back(failed_read([&] { return reader->summary(); }));
  errors.push_back(failed_read([&] { return reader->households("", 10); }));
  errors.push_back(failed_read([&] { return reader->visits_to(*household); }));
  errors.push_back(failed_read([&] { return reader->device(); }));
  errors.push_back(failed_read([&] { return reader->reference_lists(); }));
  errors.push_back(failed_read([&] { return reader->enrollment(); }));
  errors.push_back(failed_read([&] { return reader->pending(10); }));
  errors.push_back(failed_read([&] { return reader->cursor(); }));
  errors.push_back(failed_read([&] {
    safer::RecordData visit = sample_visit(*household);
    return reader->validate(visit);
  }));
  for (const auto& error : errors) {
    CHECK(error.code == "storage");
    CHECK(error.message.find("cannot read") != std::string::npos);
    CHECK(error.message.find("Fictional") == std::string::npos);  // no value from the store
  }
  CHECK(errors[0].message.find("household records") != std::string::npos);  // names what failed

  SECTION("once the store reads again, so do the reads") {
    CHECK(reader->list(Entity::household)->size() == 1);
    CHECK(reader->summary()->households == 1);
  }
}

TEST_CASE("get answers not_found, naming the id, for a record the device does not hold", "[store]") {
  test_support::TempDir dir;
  auto store = open_store(dir.file("s.db"));
  const auto missing = store->get(Entity::visit, "0190a6f2-0000-7000-8000-000000000000");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");
  CHECK(missing.error().field == "id");
  CHECK(store->enrollment().error().code == "not_enrolled");
}
