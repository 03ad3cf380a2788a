// The libpq layer (safer/pg.h) on a private PostgreSQL cluster (tests/support/pg_cluster.h),
// and the PostgreSQL facts the multi-server store is to be built on (docs/scale-out.md):
// a commit-safe watermark for pulls, and LISTEN/NOTIFY between connections.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "pg_cluster.h"
#include "safer/pg.h"

namespace {

using safer::pg::Connection;
using safer::pg::Failure;
using safer::pg::Param;

// One cluster for the whole program: initdb and start take about half a second.
test_support::PgCluster& cluster() {
  static test_support::PgCluster instance;
  return instance;
}

std::string fresh_database() {
  static int next = 0;
  return cluster().create_database("test_" + std::to_string(++next));
}

}  // namespace

TEST_CASE("statements bind text parameters and NULL, and failures carry their SQLSTATE", "[pg]") {
  Connection db(fresh_database());
  db.exec("CREATE TABLE households (id text PRIMARY KEY, ward text, visits bigint NOT NULL)");
  db.run("INSERT INTO households VALUES ($1, $2, $3)", {std::string("h-1"), std::nullopt, std::string("3")});
  db.run("INSERT INTO households VALUES ($1, $2, $3)", {std::string("h-2"), std::string("Elstree"), std::string("0")});

  const auto rows = db.run("SELECT id, ward, visits FROM households ORDER BY id");
  REQUIRE(rows.size() == 2);
  CHECK(rows.text(0, 0) == "h-1");
  CHECK(rows.is_null(0, 1));
  CHECK(rows.optional_text(0, 1) == std::nullopt);
  CHECK(rows.integer(0, 2) == 3);
  CHECK(rows.optional_text(1, 1) == std::optional<std::string>("Elstree"));
  CHECK_THROWS_AS(rows.integer(1, 1), Failure);  // "Elstree" is not an integer

  const auto updated = db.run("UPDATE households SET visits = visits + 1 WHERE visits >= $1", {std::string("0")});
  CHECK(updated.affected() == 2);

  try {
    db.run("INSERT INTO households VALUES ($1, NULL, 0)", {std::string("h-1")});
    FAIL("a repeated primary key was accepted");
  } catch (const Failure& failure) {
    CHECK(failure.unique_violation());
    CHECK(failure.sqlstate() == "23505");
    CHECK(std::string(failure.what()).find("duplicate key") != std::string::npos);
  }
  try {
    db.run("SELECT no_such_column FROM households");
    FAIL("a bad statement ran");
  } catch (const Failure& failure) {
    CHECK(failure.sqlstate() == "42703");
  }
}

TEST_CASE("a connection to nowhere fails with a message and no SQLSTATE", "[pg]") {
  try {
    Connection db("host=/nonexistent-directory port=1 user=safer dbname=postgres connect_timeout=2");
    FAIL("connected to nowhere");
  } catch (const Failure& failure) {
    CHECK(failure.sqlstate().empty());
    CHECK(std::string(failure.what()).rfind("cannot connect to PostgreSQL: ", 0) == 0);
  }
}

TEST_CASE("a transaction keeps nothing unless committed", "[pg]") {
  Connection db(fresh_database());
  db.exec("CREATE TABLE t (n integer)");
  {
    safer::pg::Transaction transaction(db);
    db.run("INSERT INTO t VALUES (1)");
  }  // rolled back
  {
    safer::pg::Transaction transaction(db);
    db.run("INSERT INTO t VALUES (2)");
    transaction.commit();
  }
  const auto rows = db.run("SELECT n FROM t");
  REQUIRE(rows.size() == 1);
  CHECK(rows.integer(0, 0) == 2);
}

TEST_CASE("migrations run once each, also from two servers starting together - a newer schema is refused", "[pg]") {
  const std::string database = fresh_database();
  static const safer::pg::Migration kMigrations[] = {
      {1, "CREATE TABLE devices (device_id text PRIMARY KEY)"},
      {2, "ALTER TABLE devices ADD COLUMN revoked boolean NOT NULL DEFAULT false"},
  };
  std::vector<std::thread> servers;
  std::vector<std::string> problems(2);
  for (int i = 0; i < 2; ++i) {
    servers.emplace_back([&, i] {
      try {
        Connection db(database);
        safer::pg::migrate(db, kMigrations, 2);
      } catch (const std::exception& failure) {
        problems[i] = failure.what();
      }
    });
  }
  for (auto& server : servers) server.join();
  CHECK(problems[0] == "");
  CHECK(problems[1] == "");
  Connection db(database);
  CHECK(db.run("SELECT number FROM schema_version ORDER BY number").size() == 2);
  CHECK(db.run("SELECT revoked FROM devices").size() == 0);  // the column exists

  safer::pg::migrate(db, kMigrations, 2);  // a restart: nothing to do, nothing rerun
  CHECK(db.run("SELECT number FROM schema_version").size() == 2);
  // An older server (it knows migration 1 only) refuses the database rather than misread it.
  CHECK_THROWS_WITH(safer::pg::migrate(db, kMigrations, 1), Catch::Contains("written by a newer server"));
  CHECK(db.run("SELECT pg_try_advisory_lock(7226134)").text(0, 0) == "t");  // the refusal let go of the lock
}

// Why: on PostgreSQL a change feed numbered by a sequence is not in commit order: a slow
// transaction can hold version 1 while version 2 commits. A pull that returned 2 and moved its
// cursor past it would never see 1. The store's pulls are to stop at the oldest transaction
// still running (pg_snapshot_xmin), which this checks on a real server.
TEST_CASE("a commit-safe watermark holds a pull back while an earlier writer is still open", "[pg][watermark]") {
  const std::string database = fresh_database();
  Connection setup(database);
  setup.exec("CREATE TABLE feed (version bigserial PRIMARY KEY, xid xid8 NOT NULL DEFAULT pg_current_xact_id(), what text)");
  // What a pull may return: rows written by transactions that are all finished, i.e. whose xid
  // is below the xmin of a fresh snapshot.
  const auto visible_to_pull = [&](Connection& reader) {
    const auto rows = reader.run(
        "SELECT version FROM feed WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY version");
    std::vector<std::int64_t> versions;
    for (int i = 0; i < rows.size(); ++i) versions.push_back(rows.integer(i, 0));
    return versions;
  };

  Connection slow(database), fast(database), reader(database);
  safer::pg::Transaction slow_transaction(slow);
  slow.run("INSERT INTO feed (what) VALUES ('slow')");  // takes version 1, not committed
  {
    safer::pg::Transaction fast_transaction(fast);
    fast.run("INSERT INTO feed (what) VALUES ('fast')");  // version 2
    fast_transaction.commit();
  }
  // Version 2 is committed and visible to a plain SELECT, but a pull must not pass it yet.
  CHECK(reader.run("SELECT version FROM feed").size() == 1);
  CHECK(visible_to_pull(reader).empty());
  slow_transaction.commit();
  CHECK(visible_to_pull(reader) == std::vector<std::int64_t>{1, 2});
}

// Why: a revoke made through one server must close the device's connection on whichever
// server holds it, and the dashboards' live updates must reach every server.
TEST_CASE("a NOTIFY reaches a connection that LISTENs, on its channel only", "[pg][notify]") {
  const std::string database = fresh_database();
  Connection listener(database), sender(database);
  listener.exec("LISTEN device_revoked");
  CHECK(listener.wait_for_notifications(50).empty());
  sender.run("SELECT pg_notify('device_revoked', $1)", {std::string("tablet-7")});
  sender.run("SELECT pg_notify('other_channel', 'x')");
  const auto received = listener.wait_for_notifications(5000);
  REQUIRE(received.size() == 1);
  CHECK(received[0].channel == "device_revoked");
  CHECK(received[0].payload == "tablet-7");
}
