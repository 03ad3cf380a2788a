// Refused changes on the tablet (issue 14): the officer can discard one, and a refused change's
// data does not outlive its purpose: it goes once the record is fixed (a later change acked),
// once the record left the user's scope (evicted, or erased), or when discarded.
#include <catch2/catch.hpp>

#include "field_client/field_client.h"
#include "field_client/store.h"
#include "process.h"
#include "pulled_changes.h"
#include "raw_bytes.h"
#include "safer/sqlite.h"
#include "temp_dir.h"

namespace {

using field_client::Discarded;
using field_client::OutboxEntry;
using field_client::OutboxState;
using field_client::Store;
using safer::Entity;

constexpr const char* kHousehold = "0192f5e4-0000-7000-8000-0000000000c1";
constexpr const char* kRefusedAddress = "9 Refused Terrace";
constexpr const char* kRefusedNote = "fictional refused note about the gate";

safer::Household household(const std::string& address = "5 Fictional Gardens") {
  safer::Household record;
  record.address = address;
  record.postcode = "EN6 1AA";
  record.ward = "Elstree";
  return record;
}

safer::Visit visit(const std::string& household_id, const std::string& notes = kRefusedNote) {
  safer::Visit record;
  record.household_id = household_id;
  record.visited_at = 1'764'149'400'000;
  record.status = safer::VisitStatus::no_answer;
  record.notes = notes;
  return record;
}

safer::PulledChange pulled(Entity entity, const std::string& id, std::optional<safer::RecordData> data,
                           std::int64_t millis = 1'764'149'400'000) {
  safer::PulledChange change;
  change.change = {entity, data ? safer::Op::upsert : safer::Op::remove, id, safer::Hlc{millis, 1}, std::move(data)};
  change.device_id = "server-side";
  return change;
}

using test_support::eviction;

void apply(Store& store, std::vector<safer::PulledChange> changes) {
  safer::ChangesPage page;
  page.changes = std::move(changes);
  page.cursor = "c.next";
  REQUIRE(store.apply_page(page).ok());
}

safer::Ack refusal(std::int64_t seq, const std::string& code = "forbidden") {
  return safer::Ack{seq, {{seq, code, "the change is not allowed", ""}}};
}

OutboxEntry entry(const Store& store, std::int64_t seq) {
  const auto all = store.outbox({OutboxState::pending, OutboxState::acked, OutboxState::rejected, OutboxState::discarded});
  REQUIRE(all);
  for (const auto& found : *all) {
    if (found.seq == seq) return found;
  }
  FAIL("no outbox entry " << seq);
  return {};
}

bool holds(const Store& store, Entity entity, const std::string& id) { return store.get(entity, id).ok(); }

// A plain store on a file, holding one household pulled from the server.
struct Tablet {
  test_support::TempDir dir;
  std::unique_ptr<Store> store = Store::open(dir.file("tablet.db")).value();
  Tablet() { apply(*store, {pulled(Entity::household, kHousehold, household())}); }
};

}  // namespace

// Why: issue 14: a refused entry kept its data for good even after the officer fixed the record.
TEST_CASE("a refused change drops its data once a later change of its record is acked", "[store][refused]") {
  Tablet tablet;
  const auto id = tablet.store->create(visit(kHousehold)).value();
  REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
  REQUIRE(entry(*tablet.store, 1).change.data.has_value());  // kept while the officer may fix it

  REQUIRE(tablet.store->update(id, visit(kHousehold, "corrected fictional note")).ok());
  REQUIRE(entry(*tablet.store, 1).change.data.has_value());  // the fix is not acked yet
  REQUIRE(tablet.store->apply_ack({2, {}}).ok());
  const auto refused = entry(*tablet.store, 1);
  CHECK(refused.state == OutboxState::rejected);
  CHECK_FALSE(refused.change.data.has_value());
  CHECK(refused.reject_code == "forbidden");
  CHECK(refused.reject_message == "the change is not allowed");
  CHECK(refused.change.id == id);
}

// Why: issue 14: a refused change pinned its household's data on the tablet after the household
// left the user's scope. The grep fails without the rule (the rejected entry and its record stay).
TEST_CASE("a household that leaves the scope takes its refused changes' data with it, to the bytes",
          "[store][refused][evict]") {
  Tablet tablet;
  const auto visit_id = tablet.store->create(visit(kHousehold)).value();
  REQUIRE(tablet.store->update(kHousehold, household(kRefusedAddress)).ok());
  REQUIRE(tablet.store->apply_ack(safer::Ack{2, {{1, "forbidden", "no", ""}, {2, "forbidden", "no", ""}}}).ok());
  REQUIRE(tablet.store->get(Entity::household, kHousehold)->state == field_client::SyncState::rejected);

  SECTION("evicted") { apply(*tablet.store, {eviction(kHousehold)}); }
  SECTION("erased: a pulled tombstone older than the refused edit") {
    apply(*tablet.store, {pulled(Entity::household, kHousehold, std::nullopt)});
    CHECK(tablet.store->get(Entity::household, kHousehold)->deleted);
  }
  CHECK_FALSE(holds(*tablet.store, Entity::visit, visit_id));
  const auto household_record = tablet.store->get(Entity::household, kHousehold);
  CHECK((!household_record || household_record->deleted));
  for (std::int64_t seq : {1, 2}) {
    const auto refused = entry(*tablet.store, seq);
    CHECK(refused.state == OutboxState::rejected);  // the officer still sees that it was refused, and why
    CHECK(refused.reject_code == "forbidden");
    CHECK_FALSE(refused.change.data.has_value());
  }
  const auto folder = tablet.dir.path();
  tablet.store.reset();  // closing checkpoints the WAL into the database and removes it
  CHECK(test_support::files_containing(folder, kRefusedAddress).empty());
  CHECK(test_support::files_containing(folder, kRefusedNote).empty());
}

TEST_CASE("an evicted record with a change still pending keeps it until it is acked", "[store][refused][evict]") {
  Tablet tablet;
  const auto visit_id = tablet.store->create(visit(kHousehold)).value();
  REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
  REQUIRE(tablet.store->update(visit_id, visit(kHousehold, "second fictional note")).ok());
  apply(*tablet.store, {eviction(kHousehold)});
  CHECK(holds(*tablet.store, Entity::visit, visit_id));  // seq 2 is pending
  CHECK(entry(*tablet.store, 1).change.data.has_value());
  REQUIRE(tablet.store->apply_ack({2, {}}).ok());
  CHECK_FALSE(holds(*tablet.store, Entity::visit, visit_id));
  CHECK_FALSE(entry(*tablet.store, 1).change.data.has_value());
}

// Why: issue 14: there was no way for the officer to discard a refused change.
TEST_CASE("discarding a refused change drops its data and returns the record to the server's state",
          "[store][refused][discard]") {
  Tablet tablet;

  SECTION("a record the server never accepted goes, to the bytes") {
    const auto visit_id = tablet.store->create(visit(kHousehold)).value();
    REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
    CHECK(tablet.store->discard_rejected(1).value() == Discarded::record_removed);
    CHECK_FALSE(holds(*tablet.store, Entity::visit, visit_id));
    const auto discarded = entry(*tablet.store, 1);
    CHECK(discarded.state == OutboxState::discarded);
    CHECK_FALSE(discarded.change.data.has_value());
    CHECK(discarded.reject_code == "forbidden");
    CHECK(tablet.store->outbox().value().empty());  // nothing left for the officer to care about
    CHECK(tablet.store->summary()->rejected == 0);
    CHECK(tablet.store->cursor().value() == "c.next");  // no pull needed
    const auto folder = tablet.dir.path();
    tablet.store.reset();
    CHECK(test_support::files_containing(folder, kRefusedNote).empty());
  }
  SECTION("a record the server holds goes back to the server's version at the next pull") {
    REQUIRE(tablet.store->update(kHousehold, household(kRefusedAddress)).ok());
    REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
    CHECK(tablet.store->discard_rejected(1).value() == Discarded::record_refetched);
    CHECK_FALSE(holds(*tablet.store, Entity::household, kHousehold));
    CHECK(tablet.store->cursor().value() == "c.next");  // a pull in flight is left alone...
    REQUIRE(tablet.store->begin_requested_full_pull().ok());
    CHECK(tablet.store->cursor().value().empty());  // ...and the next one pulls the scope afresh
    REQUIRE(tablet.store->begin_requested_full_pull().ok());
    apply(*tablet.store, {pulled(Entity::household, kHousehold, household())});
    REQUIRE(tablet.store->finish_full_pull().ok());
    const auto back = tablet.store->get(Entity::household, kHousehold).value();
    CHECK(std::get<safer::Household>(*back.data).address == "5 Fictional Gardens");
    CHECK(back.state == field_client::SyncState::synced);
    const auto folder = tablet.dir.path();
    tablet.store.reset();
    CHECK(test_support::files_containing(folder, kRefusedAddress).empty());
  }
  SECTION("an older refusal of a record changed since: only its data goes") {
    const auto visit_id = tablet.store->create(visit(kHousehold)).value();
    REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
    REQUIRE(tablet.store->update(visit_id, visit(kHousehold, "fixed fictional note")).ok());
    CHECK(tablet.store->discard_rejected(1).value() == Discarded::change_only);
    const auto kept = tablet.store->get(Entity::visit, visit_id).value();
    CHECK(std::get<safer::Visit>(*kept.data).notes == "fixed fictional note");
    CHECK(kept.state == field_client::SyncState::pending);
    CHECK_FALSE(entry(*tablet.store, 1).change.data.has_value());
  }
  SECTION("the latest refusal takes the record's earlier ones with it") {
    const auto visit_id = tablet.store->create(visit(kHousehold)).value();
    REQUIRE(tablet.store->apply_ack(refusal(1)).ok());
    REQUIRE(tablet.store->update(visit_id, visit(kHousehold, "still refused fictional note")).ok());
    REQUIRE(tablet.store->apply_ack(refusal(2)).ok());
    CHECK(tablet.store->discard_rejected(2).value() == Discarded::record_removed);
    CHECK(entry(*tablet.store, 1).state == OutboxState::discarded);
    CHECK_FALSE(entry(*tablet.store, 1).change.data.has_value());
  }
}

TEST_CASE("discarding what cannot be discarded is refused, naming why, and changes nothing", "[store][refused][discard]") {
  Tablet tablet;
  const auto visit_id = tablet.store->create(visit(kHousehold)).value();
  const auto before = tablet.store->outbox().value().size();

  const auto missing = tablet.store->discard_rejected(99);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == "not_found");
  CHECK(missing.error().field == "seq");
  const auto pending = tablet.store->discard_rejected(1);
  REQUIRE_FALSE(pending);
  CHECK(pending.error().code == "invalid");
  CHECK(pending.error().message.find("not refused") != std::string::npos);
  CHECK(tablet.store->outbox().value().size() == before);
  CHECK(holds(*tablet.store, Entity::visit, visit_id));

  // A household of the officer's own that the server refused, with a visit to it still here.
  constexpr const char* kOwnHousehold = "0192f5e4-0000-7000-8000-0000000000c9";
  REQUIRE(tablet.store->create(household("3 Own Fictional Close"), std::string(kOwnHousehold)).ok());
  REQUIRE(tablet.store->create(visit(kOwnHousehold)).ok());
  REQUIRE(tablet.store->apply_ack(safer::Ack{2, {{2, "invalid", "ward is unknown", "ward"}}}).ok());
  const auto with_visits = tablet.store->discard_rejected(2);
  REQUIRE_FALSE(with_visits);
  CHECK(with_visits.error().code == "forbidden");
  CHECK(with_visits.error().message.find("visit") != std::string::npos);
  CHECK(entry(*tablet.store, 2).state == OutboxState::rejected);
  CHECK(entry(*tablet.store, 2).change.data.has_value());
  CHECK(holds(*tablet.store, Entity::household, kOwnHousehold));
}

// Why: client migration 7 rebuilds the outbox (SQLite cannot change a CHECK): a store made at
// version 6 with refused changes must keep them, and accept a refused entry without data.
TEST_CASE("a store of schema version 6 with refused changes upgrades and keeps them", "[store][refused][migration]") {
  test_support::TempDir dir;
  const auto path = dir.file("tablet.db");
  REQUIRE(field_client::create_store_at_version(path, 6).ok());
  {
    safer::sqlite::Database db(path);
    db.exec("INSERT INTO meta (key, value) VALUES ('device_id', 'tablet-old'), ('last_seq', '3');"
            "INSERT INTO records (entity, id, hlc, device_id, data, created_here, household_id, visited_at, status)"
            " VALUES ('visit', '0192f5e4-0000-7000-8000-0000000000d1', '001764149400000-00003', 'tablet-old',"
            " '{\"household_id\":\"0192f5e4-0000-7000-8000-0000000000c1\",\"visited_at\":\"2025-11-26T09:30:00.000Z\","
            "\"status\":\"no_answer\",\"notes\":\"third fictional note\"}', 1,"
            " '0192f5e4-0000-7000-8000-0000000000c1', '2025-11-26T09:30:00.000Z', 'no_answer');"
            "INSERT INTO outbox (seq, entity, op, record_id, hlc, data, state, reject_code, reject_message, created_at) VALUES"
            " (1, 'visit', 'upsert', '0192f5e4-0000-7000-8000-0000000000d1', '001764149400000-00001',"
            "  (SELECT data FROM records), 'rejected', 'forbidden', 'no', 1),"
            " (2, 'visit', 'upsert', '0192f5e4-0000-7000-8000-0000000000d1', '001764149400000-00002', NULL, 'acked', NULL, NULL, 2),"
            " (3, 'visit', 'upsert', '0192f5e4-0000-7000-8000-0000000000d1', '001764149400000-00003',"
            "  (SELECT data FROM records), 'rejected', 'invalid', 'status is wrong', 3);");
  }
  auto store = Store::open(path).value();
  const auto entries = store->outbox({OutboxState::acked, OutboxState::rejected}).value();
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].state == OutboxState::rejected);
  CHECK(entries[0].reject_code == "forbidden");
  CHECK_FALSE(entries[0].change.data.has_value());  // superseded by the acked seq 2
  CHECK(entries[2].state == OutboxState::rejected);
  CHECK(entries[2].change.data.has_value());        // the standing refusal keeps its data
  CHECK(store->device()->device_id == "tablet-old");
  // The rebuilt table takes a refused entry without data, and still refuses a pending one.
  CHECK(store->discard_rejected(3).value() == Discarded::record_refetched);  // seq 2 was accepted
  safer::sqlite::Database raw(path);
  CHECK_THROWS(raw.exec("INSERT INTO outbox (seq, entity, op, record_id, hlc, data, state, created_at)"
                        " VALUES (9, 'visit', 'upsert', 'x', 'h', NULL, 'pending', 0)"));
}

TEST_CASE("field-client discard and fc_discard_rejected discard a refused change", "[cli][c-api][refused][discard]") {
  test_support::TempDir dir;
  const auto path = dir.file("tablet.db");
  {
    auto store = Store::open(path).value();
    apply(*store, {pulled(Entity::household, kHousehold, household())});
    REQUIRE(store->create(visit(kHousehold)).ok());
    REQUIRE(store->create(visit(kHousehold, "another fictional note")).ok());
    REQUIRE(store->apply_ack(safer::Ack{2, {{1, "forbidden", "no", ""}, {2, "invalid", "status is wrong", "status"}}}).ok());
  }
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", path});
    auto result = test_support::run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  };

  const auto discarded = cli({"discard", "--seq", "1"});
  INFO(discarded.err);
  CHECK(discarded.exit_code == 0);
  CHECK(discarded.out.find("discarded") != std::string::npos);
  CHECK(discarded.out.find("never had the record") != std::string::npos);
  const auto again = cli({"discard", "--seq", "1"});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("not refused") != std::string::npos);
  const auto unknown = cli({"--json", "discard", "--seq", "7"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("\"code\":\"not_found\"") != std::string::npos);
  CHECK(cli({"discard"}).exit_code == 2);  // --seq is required

  fc_store* store = nullptr;
  REQUIRE(fc_open(path.c_str(), &store, nullptr) == FC_OK);
  char* result = nullptr;
  CHECK(fc_discard_rejected(store, 2, &result) == FC_OK);
  REQUIRE(result != nullptr);
  CHECK(std::string(result) == "record_removed");
  fc_free(result);
  CHECK(fc_discard_rejected(store, 2, nullptr) == FC_INVALID);
  CHECK(std::string(fc_last_error(store)).find("\"field\":\"seq\"") != std::string::npos);
  CHECK(fc_discard_rejected(store, 99, nullptr) == FC_NOT_FOUND);
  char* outbox = nullptr;
  REQUIRE(fc_outbox(store, &outbox) == FC_OK);
  CHECK(std::string(outbox) == "[]");
  fc_free(outbox);
  fc_close(store);
}
