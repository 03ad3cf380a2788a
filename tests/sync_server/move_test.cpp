// `sync-server move-to-postgresql`: a borough's SQLite store copied into PostgreSQL whole —
// records, devices (tokens, acked_seq), accounts, statistics — and refused into a database
// that already holds data.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "pg_cluster.h"
#include "safer/pg.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "test_database.h"

using namespace store_test;

// Why: moving is how a borough that outgrows one server becomes a county; its tablets must
// carry on (same tokens, exactly-once from their acked_seq) and nothing recorded may be lost.
TEST_CASE("a SQLite store moves to PostgreSQL whole, and the tablets carry on", "[postgresql][move]") {
  test_support::TempDir dir;
  const std::string file = dir.file("borough.db");
  std::string token;
  std::map<std::string, safer::PulledChange> before;
  safer::Stats stats_before;
  {
    auto opened = ServerStore::open(file, fixed_options());
    REQUIRE(opened.ok());
    auto& store = **opened;
    REQUIRE(store.set_reference_lists({{"Elstree", "Shenley", "Potters Bar East"}, {"Radlett", "Elstree & Borehamwood"}}).ok());
    REQUIRE(store.enroll("coord-tablet", "coord.cat", Role::coordinator).ok());
    token = *store.enroll("ann-tablet", "officer.ann", Role::officer);
    REQUIRE(store.add_coordinator("cat", "a long enough passphrase").ok());
    const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
    const DeviceIdentity ann{"ann-tablet", "officer.ann", Role::officer};
    safer::ReceivedPush households;
    for (int h = 0; h < 20; ++h) {
      households.changes.push_back({h + 1, upsert(uuid(h), target_household(h % 2 ? "Elstree" : "Shenley", h % 3 == 0, "officer.ann"),
                                                   hlc(h)), {}});
    }
    REQUIRE(store.push(coordinator, households).ok());
    safer::ReceivedPush visits;
    for (int v = 0; v < 60; ++v) {
      Visit record = visit(uuid(v % 20), v % 4 ? VisitStatus::completed : VisitStatus::declined,
                           at("2026-11-25T10:00:00Z") - (v % 7) * 40 * kDay);
      if (v % 5 == 0) record.notes = "Fictional note, café";
      visits.changes.push_back({v + 1, upsert(uuid(1000 + v), record, hlc(100 + v)), {}});
    }
    visits.changes.push_back({61, remove(Entity::visit, uuid(1000), hlc(500)), {}});
    visits.changes.push_back({62, upsert(uuid(2000), session("Radlett", 12), hlc(501)), {}});
    visits.changes.push_back({63, upsert(uuid(2001), session("Atlantis", 1), hlc(502)), {}});  // rejected
    const auto pushed = store.push(ann, visits);
    REQUIRE(pushed.ok());
    REQUIRE(pushed->ack->rejected.size() == 1);
    before = server_records(store);
    stats_before = store.stats(std::nullopt, std::nullopt);
    // The audit trail moves with its anchor: entries 1-24 (the lists, two enrolments, an
    // account, the coordinator's 20 assignments) purged, the purge's entry 25 kept.
    REQUIRE(sync_server::AuditLog(store).purge_before(kNow + 1, {})->anchor_seq == 24);
  }

  const std::string url = test_support::new_postgresql_database();
  const auto moved = ServerStore::move_to_postgresql(file, url, fixed_options());
  INFO((moved.ok() ? "" : moved.error().message));
  REQUIRE(moved.ok());
  CHECK(moved->stats == stats_before);
  std::map<std::string, std::int64_t> rows(moved->tables.begin(), moved->tables.end());
  CHECK(rows["records"] == 20 + 60 + 1);
  CHECK(rows["devices"] == 2);
  CHECK(rows["accounts"] == 1);
  CHECK(rows["rejections"] == 1);
  CHECK(rows["audit_log"] == 1);

  auto opened = ServerStore::open(url, fixed_options());
  REQUIRE(opened.ok());
  auto& store = **opened;
  CHECK(server_records(store).size() == before.size());
  for (const auto& [key, change] : server_records(store)) {
    INFO(key);
    REQUIRE(before.contains(key));
    CHECK(before.at(key).change == change.change);
    CHECK(before.at(key).device_id == change.device_id);
  }
  CHECK(store.stats(std::nullopt, std::nullopt) == stats_before);
  CHECK(store.stats(date("2026-04-01"), date("2027-03-31")) == store.recompute_stats(date("2026-04-01"), date("2027-03-31")));
  CHECK(store.options().lists.wards == std::vector<std::string>{"Elstree", "Shenley", "Potters Bar East"});
  CHECK(store.log_in({"cat", "a long enough passphrase", "127.0.0.1", false}).outcome == ServerStore::Login::Outcome::ok);
  const auto audit = sync_server::AuditLog(store).verify();
  INFO(audit.problem);
  CHECK(audit.intact);
  CHECK(audit.anchor_seq == 24);
  CHECK(audit.head_seq == 26);  // the purge's entry, then the login just now

  // The tablet's token still works, and it carries on from its acked_seq: a resend of its
  // last change is ignored, the next applies.
  const auto device = store.authenticate(token);
  REQUIRE(device.has_value());
  CHECK(device->acked_seq == 63);
  safer::ReceivedPush next;
  next.changes.push_back({63, upsert(uuid(2001), session("Atlantis", 1), hlc(502)), {}});
  next.changes.push_back({64, upsert(uuid(2002), session("Radlett", 3), hlc(503)), {}});
  const auto pushed = store.push(device->identity, next);
  REQUIRE(pushed.ok());
  CHECK(pushed->ack->acked_seq == 64);
  CHECK(pushed->applied == 1);
  CHECK(pushed->ack->rejected.size() == 1);  // the resent rejection, reported again
  // A cursor of the SQLite store is not honoured: tablets pull once from the start.
  const auto stale = store.pull(device->identity, {"0123456789ab.42", 10});
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == "cursor_invalid");

  // Into a database that holds data: refused, and nothing changes there.
  const auto again = ServerStore::move_to_postgresql(file, url, fixed_options());
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == "invalid");
  CHECK(server_records(store).size() == before.size() + 1);
  // The arguments the wrong way round.
  CHECK(ServerStore::move_to_postgresql(url, file, fixed_options()).error().code == "invalid");
}

// Why: transaction ids, which PostgreSQL cursors hold, start again in a restored database; a
// tablet's cursor from before the restore could then pass over what the restored store
// commits. A restored store takes a new epoch, so old cursors are refused and tablets pull
// once from the start (docs/deployment.md, "Backup and restore (PostgreSQL)").
TEST_CASE("a PostgreSQL store restored from pg_dump refuses cursors given before", "[postgresql][move]") {
  const std::string url = test_support::new_postgresql_database();
  std::string cursor;
  {
    auto opened = ServerStore::open(url, fixed_options());
    REQUIRE(opened.ok());
    const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
    REQUIRE((*opened)->enroll(coordinator.device_id, coordinator.user_id, coordinator.role).ok());
    safer::ReceivedPush push;
    push.changes.push_back({1, upsert(uuid(1), household(), hlc(1)), {}});
    REQUIRE((*opened)->push(coordinator, push).ok());
    cursor = pull_all(**opened, coordinator).second;
    // Opening again, with nothing restored, keeps the epoch.
    auto again = ServerStore::open(url, fixed_options());
    REQUIRE(again.ok());
    CHECK((*again)->pull(coordinator, {cursor, 10}).ok());
  }
  const auto bin = test_support::PgCluster::binaries();
  REQUIRE(bin.has_value());
  test_support::TempDir dir;
  const std::string dump = dir.file("sync.dump");
  REQUIRE(std::system((*bin + "/pg_dump -Fc -f '" + dump + "' '" + url + "'").c_str()) == 0);
  const std::string restored = test_support::new_postgresql_database();
  REQUIRE(std::system((*bin + "/pg_restore --no-owner -d '" + restored + "' '" + dump + "'").c_str()) == 0);

  {
    // As if restored into a cluster whose transaction ids are behind the old one's: the rows
    // carry ids from its future.
    safer::pg::Connection connection(restored);
    connection.exec("ALTER TABLE records DISABLE TRIGGER records_feed_position;"
                    " UPDATE records SET xid = '4000000000';"
                    " ALTER TABLE records ENABLE TRIGGER records_feed_position");
  }
  auto opened = ServerStore::open(restored, fixed_options());
  REQUIRE(opened.ok());
  const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
  const auto stale = (*opened)->pull(coordinator, {cursor, 10});
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == "cursor_invalid");
  CHECK(server_records(**opened).size() == 1);
  CHECK((*opened)->device(coordinator.device_id)->acked_seq == 1);
}
