// The retention policy and its purge (sync_server/retention.h, docs/server.md "Retention"), at
// the store level on both backends: what is erased, blanked and compacted, and when; that the
// statistics stay equal to a recount; that a cursor older than the compaction horizon is
// refused; and that the audit trail's age is a floor for audit purge.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "audit_entries.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/db.h"
#include "sync_server/retention.h"

using namespace store_test;
using sync_server::AuditLog;
using sync_server::PurgeCounts;
using sync_server::Retention;
using sync_server::RetentionAge;
using sync_server::RetentionPolicy;

namespace {

// Household 1 assigned to Ann; Ann's visits: 21 (2019, erased at 6 years), 22 (2022, notes
// blanked at 3 years), 23 (last week, kept), each with notes; her commute sessions 31 (2019)
// and 32 (last week).
struct Borough {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);

  static Visit noted(const char* when) {
    Visit record = visit(uuid(1), VisitStatus::completed, at(when));
    record.outcomes.insert(safer::Outcome::fire_safety_check);
    record.notes = "Fictional note: side gate sticks";
    return record;
  }

  Borough() {
    REQUIRE(fixture.push(coordinator, upsert(uuid(1), target_household("Elstree", true, "officer.ann"), hlc(1)))
                .rejected.empty());
    REQUIRE(fixture
                .push(ann, {upsert(uuid(21), noted("2019-06-01T10:00:00Z"), hlc(2)),
                            upsert(uuid(22), noted("2022-06-01T10:00:00Z"), hlc(3)),
                            upsert(uuid(23), noted("2026-11-19T10:00:00Z"), hlc(4)),
                            upsert(uuid(31), session("Potters Bar", 5, at("2019-06-01T07:00:00Z")), hlc(5)),
                            upsert(uuid(32), session("Potters Bar", 7, at("2026-11-19T07:00:00Z")), hlc(6))})
                .rejected.empty());
  }

  PurgeCounts purge(bool dry_run = false, int batch = 500) {
    auto counts = Retention(fixture.store()).run(dry_run, {}, batch);
    INFO((counts.ok() ? "" : counts.error().message));
    REQUIRE(counts.ok());
    return *counts;
  }
  void set_policy(const char* text) {
    auto policy = RetentionPolicy::parse(text);
    REQUIRE(policy.ok());
    REQUIRE(Retention(fixture.store()).set_policy(*policy).ok());
  }
  std::map<std::string, safer::PulledChange> records() { return server_records(fixture.store()); }
  void check_stats() {
    auto& store = fixture.store();
    CHECK(store.stats(std::nullopt, std::nullopt) == store.recompute_stats(std::nullopt, std::nullopt));
    CHECK(store.stats(date("2019-04-01"), date("2020-03-31")) == store.recompute_stats(date("2019-04-01"), date("2020-03-31")));
  }
};

std::string notes_of(const safer::PulledChange& pulled) {
  REQUIRE(pulled.change.data.has_value());
  return std::get<Visit>(*pulled.change.data).notes;
}

}  // namespace

// Why: a policy typed wrong must be refused with the setting named, never half-applied.
TEST_CASE("a retention policy is read, checked and named setting by setting", "[retention]") {
  const RetentionPolicy defaults;
  CHECK(defaults.to_string() == "visits=6y notes=3y commute_sessions=6y tombstones=90d audit=6y");
  CHECK(RetentionPolicy::parse(defaults.to_string())->to_string() == defaults.to_string());
  CHECK(RetentionPolicy::parse("notes=1y tombstones=0d audit=never")->to_string() ==
        "visits=6y notes=1y commute_sessions=6y tombstones=0d audit=never");

  SECTION("an unknown setting") {
    auto parsed = RetentionPolicy::parse("visitz=6y");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "invalid");
    CHECK(parsed.error().field == "visitz");
  }
  SECTION("an age that is not one") {
    for (const char* bad : {"visits=6", "visits=6w", "visits=-1y", "visits=y", "visits=101y", "visits=36501d"}) {
      auto parsed = RetentionPolicy::parse(bad);
      INFO(bad);
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.error().field == "visits");
      CHECK(parsed.error().message.find("such as 90d or 6y") != std::string::npos);
    }
  }
  SECTION("notes kept longer than their visits") {
    for (const char* bad : {"visits=2y notes=3y", "visits=700d notes=2y", "visits=6y notes=never"}) {
      auto parsed = RetentionPolicy::parse(bad);
      INFO(bad);
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.error().field == "notes");
    }
    CHECK(RetentionPolicy::parse("visits=2y notes=730d").ok());
    CHECK(RetentionPolicy::parse("visits=never notes=never").ok());
  }
  SECTION("zero, except for tombstones") {
    auto parsed = RetentionPolicy::parse("audit=0d");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().field == "audit");
  }
  SECTION("a year back is the same date") {
    CHECK(RetentionAge::years(6).cutoff(at("2026-11-26T09:30:00Z")) == at("2020-11-26T09:30:00Z"));
    CHECK(RetentionAge::years(1).cutoff(at("2028-02-29T12:00:00Z")) == at("2027-02-28T12:00:00Z"));
    CHECK(RetentionAge::days(90).cutoff(kNow) == kNow - 90 * kDay);
    CHECK_FALSE(RetentionAge::never().cutoff(kNow).has_value());
  }
}

// Why: the store keeps the policy, so that every command and server on it agree.
TEST_CASE("the policy is kept in the store and its change audited", "[retention]") {
  Borough borough;
  REQUIRE(Retention(borough.fixture.store()).policy()->to_string() == RetentionPolicy{}.to_string());
  borough.set_policy("visits=7y notes=2y");
  borough.fixture.reopen();
  CHECK(Retention(borough.fixture.store()).policy()->to_string() ==
        "visits=7y notes=2y commute_sessions=6y tombstones=90d audit=6y");
  const auto changes = entries_of(borough.fixture.store(), sync_server::kAuditRetentionChange);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].entry.detail.find("visits=7y") != std::string::npos);
}

// Why: issue 14 §3: visits older than the policy are erased and notes blanked as new versions
// that reach the tablets; a dry run only counts.
TEST_CASE("a purge erases old visits and sessions and blanks old notes, as versions in the feed", "[retention]") {
  Borough borough;
  const auto before = borough.records();
  const std::string ann_cursor = pull_all(borough.fixture.store(), borough.ann.identity).second;

  const auto dry = borough.purge(true);
  CHECK(dry.visits_erased == 1);
  CHECK(dry.notes_blanked == 1);
  CHECK(dry.sessions_erased == 1);
  CHECK(borough.records().size() == before.size());
  CHECK(notes_of(borough.records().at(key(Entity::visit, uuid(22)))) == "Fictional note: side gate sticks");

  const auto counts = borough.purge();
  CHECK(counts.visits_erased == 1);
  CHECK(counts.notes_blanked == 1);
  CHECK(counts.sessions_erased == 1);

  // Ann's tablet gets the tombstones and the blanked visit after its cursor.
  const auto changes = latest(pull_all(borough.fixture.store(), borough.ann.identity, ann_cursor).first);
  REQUIRE(changes.size() == 3);
  CHECK(changes.at(key(Entity::visit, uuid(21))).change.op == Op::remove);
  CHECK(changes.at(key(Entity::commute_session, uuid(31))).change.op == Op::remove);
  CHECK(changes.at(key(Entity::visit, uuid(22))).device_id == "retention");
  CHECK(notes_of(changes.at(key(Entity::visit, uuid(22)))).empty());
  CHECK(std::get<Visit>(*changes.at(key(Entity::visit, uuid(22))).change.data).has(safer::Outcome::fire_safety_check));
  CHECK(notes_of(borough.records().at(key(Entity::visit, uuid(23)))) == "Fictional note: side gate sticks");

  // The statistics lose the erased visit and session, and agree with a recount.
  borough.check_stats();
  CHECK(borough.fixture.store().stats(date("2019-04-01"), date("2020-03-31")).visits_total == 0);
  CHECK(borough.fixture.store().stats(std::nullopt, std::nullopt).visits_total == 2);

  // A second run finds nothing more to do.
  const auto again = borough.purge();
  CHECK(again.visits_erased + again.notes_blanked + again.sessions_erased == 0);

  // One entry a run, counts only.
  const auto runs = entries_of(borough.fixture.store(), sync_server::kAuditRetentionPurge);
  REQUIRE(runs.size() == 3);
  CHECK(runs[2].entry.detail.rfind("dry_run=1 visits_erased=1 orphans_erased=0 notes_blanked=1", 0) == 0);
  CHECK(runs[1].entry.detail.rfind("visits_erased=1 orphans_erased=0 notes_blanked=1 sessions_erased=1", 0) == 0);
  for (const auto& run : runs) CHECK(run.entry.detail.find("gate") == std::string::npos);
}

// Why: versions before erasure took a household's visits with it left them live, notes and
// all, under a deleted household; the data-protection page promises the upgrade clears them.
TEST_CASE("a purge erases the live visits of households deleted before erasure existed", "[retention]") {
  Borough borough;
  // Not a target any more, so that the raw delete below leaves the target counts right.
  REQUIRE(borough.fixture.push(borough.coordinator, {upsert(uuid(1), target_household("Elstree", false, "officer.ann"), hlc(6)),
                                                     upsert(uuid(2), household("Shenley"), hlc(7))})
              .rejected.empty());
  Visit other = Borough::noted("2026-11-20T10:00:00Z");
  other.household_id = uuid(2);
  REQUIRE(borough.fixture.push(borough.coordinator, upsert(uuid(41), other, hlc(9))).rejected.empty());
  {  // household 1 deleted as an earlier version did: a tombstone, its visits left as they were
    auto raw = sync_server::db::Database::open(borough.fixture.path());
    raw->exec("UPDATE records SET deleted = 1, data = NULL WHERE entity = 'household' AND id = '" + uuid(1) + "'");
  }
  borough.fixture.reopen();
  borough.set_policy("visits=never notes=never commute_sessions=never tombstones=never audit=never");

  const auto dry = borough.purge(true);
  CHECK(dry.orphans_erased == 3);
  CHECK(borough.records().at(key(Entity::visit, uuid(23))).change.op == Op::upsert);
  const auto counts = borough.purge();
  CHECK(counts.orphans_erased == 3);
  for (const int visit_id : {21, 22, 23}) {
    const auto& erased = borough.records().at(key(Entity::visit, uuid(visit_id)));
    CHECK(erased.change.op == Op::remove);
    CHECK(erased.device_id == "retention");
  }
  CHECK(borough.records().at(key(Entity::visit, uuid(41))).change.op == Op::upsert);  // its household is live
  borough.check_stats();
  CHECK(borough.fixture.store().stats(std::nullopt, std::nullopt).visits_total == 1);
  CHECK(borough.purge().orphans_erased == 0);
}

// Why: a big purge must not hold the writer for long: batches commit one by one and together
// do everything.
TEST_CASE("a purge in small batches does the same as one", "[retention]") {
  Borough borough;
  Device ann = borough.ann;
  std::vector<Change> old_visits;
  for (int i = 0; i < 7; ++i) old_visits.push_back(upsert(uuid(100 + i), Borough::noted("2018-03-01T10:00:00Z"), hlc(10 + i)));
  REQUIRE(borough.fixture.push(ann, old_visits).rejected.empty());
  const auto counts = borough.purge(false, 2);
  CHECK(counts.visits_erased == 8);
  CHECK(counts.notes_blanked == 1);
  CHECK(counts.sessions_erased == 1);
  borough.check_stats();
}

// Why: tombstones and exits are compacted only once older than the horizon, household
// tombstones never, and a device whose cursor lies before the horizon must pull afresh
// (cursor_invalid) since it may not have seen a tombstone that is now gone.
TEST_CASE("tombstones older than the horizon are compacted and older cursors refused", "[retention][pull]") {
  Borough borough;
  auto& fixture = borough.fixture;
  borough.set_policy("tombstones=30d");
  // A deleted visit and an erased household (with its visit) before the first run.
  Device ann = borough.ann;
  REQUIRE(fixture.push(borough.coordinator, upsert(uuid(2), target_household("Elstree", false, "officer.ann"), hlc(20)))
              .rejected.empty());
  REQUIRE(fixture.push(ann, {upsert(uuid(24), visit(uuid(2)), hlc(21)), remove(Entity::visit, uuid(23), hlc(22))})
              .rejected.empty());
  REQUIRE(fixture.push(borough.coordinator, remove(Entity::household, uuid(2), hlc(23))).rejected.empty());
  const std::string old_cursor = pull_all(fixture.store(), ann.identity, "", 500, ServerStore::Evictions::send).second;

  // The first run marks the feed; nothing is 30 days old yet.
  auto first = borough.purge();
  CHECK(first.tombstones_compacted == 0);
  const std::size_t tombstones_then = borough.records().size();

  // A tombstone written after the mark stays when the mark's tombstones go.
  fixture.now += 10 * kDay;
  REQUIRE(fixture.push(ann, remove(Entity::visit, uuid(22), hlc(kHour + 10 * kDay))).rejected.empty());
  const std::string recent_cursor = pull_all(fixture.store(), ann.identity).second;
  fixture.now += 25 * kDay;
  auto later = borough.purge();
  // Visits 23 (deleted) and 24 (erased with household 2), and what the first run itself erased
  // before it marked the feed: visit 21 and session 31 (older than 6 years).
  CHECK(later.tombstones_compacted == 4);
  CHECK(later.exits_compacted == 1);

  const auto records = borough.records();
  CHECK(records.count(key(Entity::visit, uuid(23))) == 0);  // deleted before the mark: gone
  CHECK(records.count(key(Entity::visit, uuid(24))) == 0);  // erased with household 2: gone
  CHECK(records.at(key(Entity::household, uuid(2))).change.op == Op::remove);  // erasure kept
  CHECK(records.at(key(Entity::visit, uuid(22))).change.op == Op::remove);     // after the mark: kept
  CHECK(records.size() == tombstones_then - 4);

  // The old cursor is refused; the recent one (after the horizon) is not.
  auto refused = fixture.store().pull(ann.identity, safer::Pull{old_cursor, 500});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "cursor_invalid");
  CHECK(fixture.store().pull(ann.identity, safer::Pull{recent_cursor, 500}).ok());
  CHECK(fixture.store().pull(ann.identity, safer::Pull{"", 500}).ok());
  // A full pull a record a page gets past the horizon: its pages lie before it, but it began after.
  CHECK(pull_all(fixture.store(), ann.identity, "", 1).first.size() == latest(pull_all(fixture.store(), ann.identity).first).size());

  // The erased household stays erased: an officer's newer write is still refused.
  auto ack = fixture.push(ann, upsert(uuid(2), household("Elstree"), hlc(kHour + 35 * kDay)));
  REQUIRE(rejection(ack, ack.acked_seq).has_value());
  CHECK(rejection(ack, ack.acked_seq)->code == "erased");
  borough.check_stats();
}

// Why: issue 14 §4 last line: the policy sets how long audit entries are kept — the daily run
// purges older ones, and `audit purge --before` may not go past it.
TEST_CASE("the policy's audit age drives the purge and is a floor for audit purge", "[retention][audit]") {
  Borough borough;
  auto& fixture = borough.fixture;
  borough.set_policy("audit=1y");
  Retention retention(fixture.store());
  CHECK(retention.check_audit_purge(kNow - 400 * kDay).ok());
  auto refused = retention.check_audit_purge(kNow - 300 * kDay);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "--before");
  CHECK(refused.error().message.find("1y") != std::string::npos);

  const auto entries_before = entries_of(fixture.store(), sync_server::kAuditEnroll).size();
  REQUIRE(entries_before == 2);
  fixture.now += 400 * kDay;
  const auto counts = borough.purge();
  CHECK(counts.audit_removed >= 3);  // the enrolments and the policy change
  CHECK(entries_of(fixture.store(), sync_server::kAuditEnroll).empty());
  CHECK(AuditLog(fixture.store()).verify().intact);
  CHECK(entries_of(fixture.store(), sync_server::kAuditAuditPurge).size() == 1);

  borough.set_policy("audit=never");
  CHECK_FALSE(Retention(fixture.store()).check_audit_purge(kNow).ok());
}

// Why: compaction runs while devices push and pull (serve's daily run; on PostgreSQL other
// servers too): a client that pulls throughout, and pulls afresh when refused, must end up
// with exactly the server's live records — no tombstone skipped, nothing left behind.
TEST_CASE("a client pulling while compaction and writes run together ends with the server's records",
          "[retention][pull]") {
  Borough borough;
  auto& fixture = borough.fixture;
  borough.set_policy("tombstones=0d");
  const DeviceIdentity ann = borough.ann.identity;
  auto writer = fixture.open_store(fixture.path());
  auto purger = fixture.open_store(fixture.path());
  auto reader = fixture.open_store(fixture.path());
  std::atomic<bool> writing{true};
  std::atomic<int> purges{0};

  std::thread writes([&] {
    std::int64_t seq = 6;  // after the Borough's five changes
    for (int i = 0; i < 60; ++i) {
      // A visit made and, every other time, the one before deleted: tombstones to compact.
      safer::ReceivedPush push;
      push.changes.push_back({seq++, upsert(uuid(1000 + i), visit(uuid(1)), hlc(100 + i)), {}});
      if (i % 2 == 1) push.changes.push_back({seq++, remove(Entity::visit, uuid(1000 + i - 1), hlc(200 + i)), {}});
      auto pushed = writer->push(ann, push);
      if (!pushed.ok() || !pushed->ack) break;
    }
    writing = false;
  });
  std::thread purges_run([&] {
    // Spaced out: with "0d" each run moves the horizon to the newest change, and a full pull
    // needs a moment to get past it (with days between runs, it always has).
    while (writing) {
      if (Retention(*purger).run(false).ok()) ++purges;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  });

  // The client: records by key, each marked with the full pull that last brought it.
  std::map<std::string, std::pair<bool, int>> held;  // key → (deleted, generation)
  int generation = 0;
  std::string cursor;
  bool full_pull = true;
  int refusals = 0;
  const auto pull_to_end = [&] {
    for (int pages = 0; pages < 100'000; ++pages) {
      auto page = reader->pull(ann, safer::Pull{cursor, 20});
      if (!page.ok()) {
        REQUIRE(page.error().code == "cursor_invalid");
        ++refusals;
        ++generation;
        cursor.clear();
        full_pull = true;
        continue;
      }
      for (const auto& pulled : page->changes) {
        held[key(pulled.change.entity, pulled.change.id)] = {pulled.change.op == Op::remove, generation};
      }
      cursor = page->cursor;
      if (page->has_more) continue;
      if (full_pull) {  // what the full pull did not bring is gone from the server
        for (auto it = held.begin(); it != held.end();) it = it->second.second < generation ? held.erase(it) : std::next(it);
        full_pull = false;
      }
      return;
    }
    FAIL("pull never finished");
  };
  while (writing) pull_to_end();
  writes.join();
  purges_run.join();
  pull_to_end();

  std::set<std::string> client_live, server_live;
  for (const auto& [record, state] : held) {
    if (!state.first) client_live.insert(record);
  }
  for (const auto& [record, pulled] : latest(pull_all(fixture.store(), ann).first)) {
    if (pulled.change.op != Op::remove) server_live.insert(record);
  }
  CHECK(client_live == server_live);
  CHECK(server_live.count(key(Entity::visit, uuid(1059))) == 1);
  CHECK(purges > 0);
  INFO("refusals: " << refusals);
}
