// The audit trail (sync_server/audit.h): its chain verifies, every kind of tampering with the
// table is caught, changes commit with their entries, a purge leaves an anchor that verifies,
// and appends from several stores on one PostgreSQL database stay one line.
#include <catch2/catch.hpp>

#include <thread>

#include "audit_entries.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"
#include "sync_server/db.h"
#include "test_database.h"

using namespace store_test;
using sync_server::Actor;
using sync_server::AuditEntry;
using sync_server::AuditFilter;
using sync_server::AuditLog;
using sync_server::AuditRecord;

namespace {

const Actor kAnn{"coord.ann", "dashboard", "192.0.2.10"};

AuditEntry entry(const char* action, const std::string& detail = "") {
  AuditEntry made(kAnn, action);
  made.detail = detail;
  return made;
}

// Every entry, oldest first.
std::vector<AuditRecord> all_entries(ServerStore& store) {
  AuditFilter filter;
  filter.limit = sync_server::kMaxAuditPage;
  auto records = AuditLog(store).list(filter);
  REQUIRE(records.ok());
  return {records->rbegin(), records->rend()};
}


void append(ServerStore& store, const AuditEntry& made) {
  auto appended = AuditLog(store).append(made);
  INFO((appended.ok() ? "" : appended.error().message));
  REQUIRE(appended.ok());
}

// A second connection to the store's database, for what only an attacker with database
// access would do: raw SQL.
std::unique_ptr<sync_server::db::Database> raw_database(const std::string& location) {
  return sync_server::db::Database::open(location);
}

// What an attacker with the database owner's rights does first: drops the guards.
void drop_guards(sync_server::db::Database& db) {
  if (db.postgresql()) {
    db.exec("DROP TRIGGER audit_log_guard ON audit_log; DROP TRIGGER audit_head_guard ON audit_head");
  } else {
    db.exec("DROP TRIGGER audit_log_append_only; DROP TRIGGER audit_log_purge_only; DROP TRIGGER audit_log_in_order;"
            " DROP TRIGGER audit_head_forward");
  }
}

bool refused(sync_server::db::Database& db, const char* sql) {
  try {
    db.exec(sql);
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

}  // namespace

TEST_CASE("audit entries chain one to the next, and an untouched trail verifies", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  for (int i = 1; i <= 5; ++i) append(store, entry(sync_server::kAuditExport, "rows=" + std::to_string(i)));
  const auto records = all_entries(store);
  REQUIRE(records.size() == 5);
  CHECK(records[0].prev_hash == std::string(64, '0'));
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(records[i].hash.size() == 64);
    if (i > 0) CHECK(records[i].prev_hash == records[i - 1].hash);
  }
  const auto verdict = AuditLog(store).verify();
  INFO(verdict.problem);
  CHECK(verdict.intact);
  CHECK(verdict.entries == 5);
  CHECK(verdict.head_seq == 5);
  CHECK(verdict.head_hash == records.back().hash);
}

// Why: the trigger is what makes the table append-only for the server's own connections (an
// UPDATE or DELETE by a bug or a careless operator fails, rather than being found later).
TEST_CASE("the database refuses to update or delete audit entries, or to move the head back", "[audit]") {
  StoreFixture fixture;
  for (int i = 1; i <= 3; ++i) append(fixture.store(), entry(sync_server::kAuditExport));
  auto db = raw_database(fixture.path());
  CHECK(refused(*db, "UPDATE audit_log SET detail = 'rows=0' WHERE seq = 2"));
  CHECK(refused(*db, "DELETE FROM audit_log WHERE seq = 2"));
  CHECK(refused(*db, "DELETE FROM audit_log"));
  CHECK(refused(*db, "UPDATE audit_head SET last_seq = 1"));
  CHECK(refused(*db, "DELETE FROM audit_head"));
  CHECK(refused(*db, "INSERT INTO audit_log SELECT seq + 10, at, actor, via, address, action, outcome, household, device,"
                     " username, kind, detail, prev_hash, hash FROM audit_log WHERE seq = 3"));
  if (db->postgresql()) CHECK(refused(*db, "TRUNCATE audit_log"));
  CHECK(AuditLog(fixture.store()).verify().intact);
}

TEST_CASE("verify names the first entry edited, deleted, inserted or reordered", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  for (int i = 1; i <= 6; ++i) append(store, entry(sync_server::kAuditExport, "rows=" + std::to_string(i)));
  auto db = raw_database(fixture.path());
  drop_guards(*db);
  std::int64_t first_bad = 0;
  std::string words;

  SECTION("a field edited") {
    db->exec("UPDATE audit_log SET actor = 'coord.bob' WHERE seq = 3");
    first_bad = 3, words = "altered";
  }
  SECTION("the time edited") {
    db->exec("UPDATE audit_log SET at = at + 1 WHERE seq = 4");
    first_bad = 4, words = "altered";
  }
  SECTION("an entry deleted from the middle") {
    db->exec("DELETE FROM audit_log WHERE seq = 3");
    first_bad = 3, words = "missing";
  }
  SECTION("two entries swapped") {
    db->exec("UPDATE audit_log SET seq = -seq WHERE seq IN (2, 5)");
    db->exec("UPDATE audit_log SET seq = 5 WHERE seq = -2");
    db->exec("UPDATE audit_log SET seq = 2 WHERE seq = -5");
    first_bad = 2, words = "altered";
  }
  SECTION("an entry's whole row replaced by a copy of another's, hashes and all") {
    db->exec("DELETE FROM audit_log WHERE seq = 4");
    db->exec("INSERT INTO audit_log SELECT 4, at, actor, via, address, action, outcome, household, device, username, kind,"
             " detail, prev_hash, hash FROM audit_log WHERE seq = 2");
    first_bad = 4, words = "altered";
  }
  SECTION("the end of the trail deleted") {
    db->exec("DELETE FROM audit_log WHERE seq >= 5");
    first_bad = 5, words = "end of the trail";
  }
  SECTION("an entry added after the head") {
    db->exec("INSERT INTO audit_log SELECT 7, at, actor, via, address, action, outcome, household, device, username, kind,"
             " detail, hash, hash FROM audit_log WHERE seq = 6");
    first_bad = 7, words = "altered";
  }
  SECTION("the oldest entries deleted and the anchor moved, without a purge") {
    db->exec("DELETE FROM audit_log WHERE seq <= 2");
    db->exec("UPDATE audit_head SET anchor_seq = 2, anchor_hash = (SELECT prev_hash FROM audit_log WHERE seq = 3)");
    first_bad = 3, words = "without a recorded purge";
  }
  const auto verdict = AuditLog(store).verify();
  INFO(verdict.problem);
  CHECK_FALSE(verdict.intact);
  CHECK(verdict.first_bad_seq == first_bad);
  CHECK_THAT(verdict.problem, Catch::Contains(words));
}

TEST_CASE("a change and its audit entry commit together - a refused change leaves no entry", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  const Actor cli{"cli:admin", "cli", "local"};

  REQUIRE(store.enroll("tablet-7", "officer.pat", Role::officer, cli).ok());
  auto enrolled = entries_of(store, sync_server::kAuditEnroll);
  REQUIRE(enrolled.size() == 1);
  CHECK(enrolled[0].entry.actor.name == "cli:admin");
  CHECK(enrolled[0].entry.device == "tablet-7");
  CHECK(enrolled[0].entry.username == "officer.pat");
  CHECK(enrolled[0].entry.detail == "role=officer");

  CHECK_FALSE(store.revoke("tablet-unknown", sync_server::ServerStore::Wipe::no, cli).ok());
  CHECK(entries_of(store, sync_server::kAuditRevoke).empty());
  REQUIRE(store.revoke("tablet-7", sync_server::ServerStore::Wipe::no, kAnn).ok());
  CHECK(entries_of(store, sync_server::kAuditRevoke).size() == 1);
  REQUIRE(store.revoke("tablet-7", sync_server::ServerStore::Wipe::yes, kAnn).ok());
  CHECK(entries_of(store, sync_server::kAuditRevokeWipe).size() == 1);

  CHECK_FALSE(store.import_households("id,address\n", kAnn).ok());
  CHECK(entries_of(store, sync_server::kAuditRegisterImport).empty());
  const std::string csv =
      "id,address,postcode,ward,target,assigned_to\n" + uuid(1) + ",1 Fictional Lane,WD6 1AA,Elstree,true,\n";
  REQUIRE(store.import_households(csv, kAnn).ok());
  auto imported = entries_of(store, sync_server::kAuditRegisterImport);
  REQUIRE(imported.size() == 1);
  CHECK(imported[0].entry.detail == "rows=1");

  REQUIRE(sync_server::Dashboard(store).assign_json(uuid(1), std::string("officer.pat"), kAnn).ok());
  CHECK_FALSE(sync_server::Dashboard(store).assign_json(uuid(99), std::string("officer.pat"), kAnn).ok());
  auto assigned = entries_of(store, sync_server::kAuditAssign);
  REQUIRE(assigned.size() == 1);
  CHECK(assigned[0].entry.household == uuid(1));
  CHECK(assigned[0].entry.detail == "assigned_to=officer.pat");
  CHECK(assigned[0].entry.actor.address == "192.0.2.10");

  REQUIRE(store.add_coordinator("coord.ann", "correct horse battery staple", cli).ok());
  REQUIRE(store.add_coordinator("coord.ann", "another long passphrase here", cli).ok());
  CHECK(entries_of(store, sync_server::kAuditAccountAdd).size() == 1);
  CHECK(entries_of(store, sync_server::kAuditPasswordChange).size() == 1);
  CHECK(AuditLog(store).verify().intact);
}

// Why: the issue asks for every assignment with its new assignee, whichever way it was made:
// the dashboard, a register import, or a coordinator's tablet.
TEST_CASE("assignments are audited from a register import and a coordinator's push, not from other edits",
          "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  auto desk = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  auto officer = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  const std::string header = "id,address,postcode,ward,target,assigned_to\n";
  REQUIRE(store.import_households(header + uuid(1) + ",1 Fictional Lane,WD6 1AA,Elstree,true,officer.ann\n" + uuid(2) +
                                      ",2 Fictional Lane,WD6 1AA,Elstree,true,\n",
                                  kAnn)
              .ok());
  auto assigned = entries_of(store, sync_server::kAuditAssign);  // newest first
  REQUIRE(assigned.size() == 1);  // the unassigned row makes none
  CHECK(assigned[0].entry.household == uuid(1));
  CHECK(assigned[0].entry.username == "officer.ann");
  CHECK(assigned[0].entry.actor.name == "coord.ann");
  // The same import again changes nobody's assignment.
  REQUIRE(store.import_households(header + uuid(1) + ",1 Fictional Lane,WD6 1AA,Elstree,true,officer.ann\n", kAnn).ok());
  CHECK(entries_of(store, sync_server::kAuditAssign).size() == 1);

  // An officer's edit keeps the assignee: no entry. A coordinator's tablet moves it: one entry.
  Household edited = household();
  edited.address = "1 Fictional Lane, edited";
  CHECK(fixture.push(officer, upsert(uuid(1), edited, hlc(kHour + 5000))).rejected.empty());
  CHECK(entries_of(store, sync_server::kAuditAssign).size() == 1);
  CHECK(fixture.push(desk, upsert(uuid(1), target_household("Elstree", true, "officer.bob"), hlc(kHour + 6000))).rejected.empty());
  // A losing version (older than the import's) assigns nothing.
  CHECK(fixture.push(desk, upsert(uuid(2), target_household("Elstree", true, "officer.kim"), hlc(1))).rejected.empty());
  assigned = entries_of(store, sync_server::kAuditAssign);
  REQUIRE(assigned.size() == 2);
  CHECK(assigned[0].entry.household == uuid(1));
  CHECK(assigned[0].entry.detail == "assigned_to=officer.bob");
  CHECK(assigned[0].entry.actor.name == "coord.cat");
  CHECK(assigned[0].entry.actor.via == "device:coord-tablet");
  CHECK(AuditLog(store).verify().intact);
}

// Why: what is typed into the username box of a failed login may be a password; and the
// trail must not hold addresses, which is what the register is made of.
TEST_CASE("logins are audited with the username only when it is an account's", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", "correct horse battery staple").ok());
  store.log_in({"coord.ann", "wrong password entirely", "192.0.2.20", false});
  store.log_in({"Secret-Typed-In-Username-1", "whatever it was", "192.0.2.21", false});
  CHECK(store.log_in({"coord.ann", "correct horse battery staple", "192.0.2.22", false}).outcome ==
        ServerStore::Login::Outcome::ok);
  auto logins = entries_of(store, sync_server::kAuditLogin);  // newest first
  REQUIRE(logins.size() == 3);
  CHECK(logins[2].entry.outcome == "wrong_password");
  CHECK(logins[2].entry.username == "coord.ann");
  CHECK(logins[2].entry.actor.name == "unauthenticated");
  CHECK(logins[2].entry.actor.address == "192.0.2.20");
  CHECK(logins[1].entry.outcome == "unknown_username");
  CHECK(logins[1].entry.username.empty());
  CHECK(logins[0].entry.outcome == "ok");
  CHECK(logins[0].entry.actor.name == "coord.ann");
  std::string csv;
  AuditLog(store).csv({}, [&csv](std::string_view piece) { csv += piece; });
  CHECK(csv.find("Secret-Typed") == std::string::npos);
}

// Why: attempts refused because the account is locked never reach the password check, but a
// run of them is what a data-protection officer looks for after an attack.
TEST_CASE("logins refused while an account is locked are audited as locked", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", "correct horse battery staple").ok());
  ServerStore::Login last;
  for (int i = 0; i < 20 && last.outcome != ServerStore::Login::Outcome::locked; ++i) {
    last = store.log_in({"coord.ann", "wrong password entirely", "192.0.2.30", false});
  }
  REQUIRE(last.outcome == ServerStore::Login::Outcome::locked);
  CHECK(store.log_in({"Another-Typed-Secret", "x", "192.0.2.30", false}).outcome !=
        ServerStore::Login::Outcome::ok);
  const auto logins = entries_of(store, sync_server::kAuditLogin);  // newest first
  REQUIRE(logins.size() >= 2);
  const auto& locked = logins[1];
  CHECK(locked.entry.outcome == "locked");
  CHECK(locked.entry.username == "coord.ann");
  CHECK(locked.entry.actor.address == "192.0.2.30");
  CHECK(logins[0].entry.username.empty());  // not an account: what was typed is not kept
  CHECK(AuditLog(store).verify().intact);
}

TEST_CASE("the audit list filters by person, action and date, and pages newest first", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  for (int i = 0; i < 5; ++i) append(store, entry(sync_server::kAuditExport));
  AuditEntry other(Actor{"coord.bob", "dashboard", "192.0.2.11"}, sync_server::kAuditAssign);
  other.username = "officer.pat";
  append(store, other);
  fixture.now += 3 * kDay;
  append(store, entry(sync_server::kAuditHouseholdsSearch));

  AuditFilter filter;
  filter.person = "coord.bob";
  CHECK(AuditLog(store).list(filter)->size() == 1);
  filter.person = "officer.pat";  // the user concerned, not only the actor
  CHECK(AuditLog(store).list(filter)->size() == 1);
  filter = {};
  filter.action = sync_server::kAuditExport;
  CHECK(AuditLog(store).list(filter)->size() == 5);
  filter = {};
  filter.from = utc_date(kNow + 2 * kDay);
  CHECK(AuditLog(store).list(filter)->size() == 1);
  filter = {};
  filter.to = utc_date(kNow);
  CHECK(AuditLog(store).list(filter)->size() == 6);

  filter = {};
  filter.limit = 4;
  const auto first = AuditLog(store).list(filter);
  REQUIRE(first->size() == 4);
  CHECK(first->front().seq == 7);
  filter.before_seq = first->back().seq;
  const auto second = AuditLog(store).list(filter);
  REQUIRE(second->size() == 3);
  CHECK(second->front().seq == 3);
  filter.limit = sync_server::kMaxAuditPage + 1;
  CHECK_FALSE(AuditLog(store).list(filter).ok());

  std::string csv;
  CHECK(AuditLog(store).csv({}, [&csv](std::string_view piece) { csv += piece; }) == 7);
  CHECK(csv.rfind("seq,time,actor,via,address,action,outcome", 0) == 0);
}

TEST_CASE("a purge removes the oldest entries, leaves an anchor, and the trail still verifies", "[audit]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  for (int i = 0; i < 4; ++i) append(store, entry(sync_server::kAuditExport));
  fixture.now += 10 * kDay;
  for (int i = 0; i < 2; ++i) append(store, entry(sync_server::kAuditExport));
  const auto before_purge = all_entries(store);

  const auto purged = AuditLog(store).purge_before(kNow + 5 * kDay, Actor{"cli:admin", "cli", "local"});
  REQUIRE(purged.ok());
  CHECK(purged->removed == 4);
  CHECK(purged->anchor_seq == 4);
  CHECK(purged->anchor_hash == before_purge[3].hash);
  const auto kept = all_entries(store);
  REQUIRE(kept.size() == 3);  // entries 5 and 6, and the purge's own entry
  CHECK(kept.front().seq == 5);
  CHECK(kept.back().entry.action == sync_server::kAuditAuditPurge);
  CHECK_THAT(kept.back().entry.detail, Catch::Contains("removed=4 anchor_seq=4"));
  auto verdict = AuditLog(store).verify();
  INFO(verdict.problem);
  CHECK(verdict.intact);
  CHECK(verdict.anchor_seq == 4);

  SECTION("a purge that finds nothing old keeps the anchor and still verifies") {
    REQUIRE(AuditLog(store).purge_before(kNow, Actor{}).ok());
    CHECK(AuditLog(store).verify().intact);
  }
  SECTION("appends go on after a purge, and a later purge moves the anchor on") {
    append(store, entry(sync_server::kAuditLogin));
    fixture.now += 10 * kDay;
    const auto again = AuditLog(store).purge_before(fixture.now, Actor{});
    REQUIRE(again.ok());
    CHECK(again->removed == 4);
    verdict = AuditLog(store).verify();
    INFO(verdict.problem);
    CHECK(verdict.intact);
  }
  SECTION("the anchor cannot be moved back to hide the purge") {
    auto db = raw_database(fixture.path());
    CHECK(refused(*db, "UPDATE audit_head SET anchor_seq = 0"));
  }
}

// Why: several servers append at once on PostgreSQL (docs/scale-out.md); without the head
// lock two of them would take the same seq or chain to the same previous entry.
TEST_CASE("appends from two stores on one PostgreSQL database keep one line", "[audit][postgresql]") {
  const std::string url = test_support::new_postgresql_database();
  auto open = [&url] {
    auto opened = ServerStore::open(url, fixed_options());
    REQUIRE(opened.ok());
    return std::move(opened.value());
  };
  auto first = open(), second = open();
  constexpr int kEach = 60;
  std::atomic<int> failures{0};
  auto appender = [&failures](ServerStore& store, const char* who) {
    for (int i = 0; i < kEach; ++i) {
      if (!AuditLog(store).append(AuditEntry(Actor{who, "dashboard", "192.0.2.1"}, sync_server::kAuditExport))) ++failures;
    }
  };
  std::thread a(appender, std::ref(*first), "coord.ann"), b(appender, std::ref(*second), "coord.bob");
  a.join();
  b.join();
  CHECK(failures == 0);
  const auto verdict = AuditLog(*first).verify();
  INFO(verdict.problem);
  CHECK(verdict.intact);
  CHECK(verdict.entries == 2 * kEach);
  CHECK(verdict.head_seq == 2 * kEach);
}
