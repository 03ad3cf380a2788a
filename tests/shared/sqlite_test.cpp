// The stores rest on this RAII layer: a transaction that is not committed must leave no trace,
// migrations must run once and in order, and failures must map to clear storage errors.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "safer/sqlite.h"

using namespace safer::sqlite;

namespace {

std::int64_t count_rows(Database& db, const char* table_sql) {
  Statement statement(db.handle(), table_sql);
  REQUIRE(statement.step());
  return statement.column_int(0);
}

// A database file under the temp directory, removed with its WAL files at the end.
struct TempPath {
  std::filesystem::path path;
  explicit TempPath(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             (name + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".db")) {
    remove_all();
  }
  ~TempPath() { remove_all(); }
  void remove_all() const {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path.string() + suffix, ignored);
    }
  }
};

const Migration kMigrations[] = {
    {1, "CREATE TABLE visit (id TEXT PRIMARY KEY, notes TEXT)"},
    {2, "ALTER TABLE visit ADD COLUMN smoke INTEGER NOT NULL DEFAULT 0"},
};

}  // namespace

TEST_CASE("statements bind and read back every kind of value", "[sqlite]") {
  Database db(":memory:");
  db.exec("CREATE TABLE t (i INTEGER, s TEXT, d REAL, n TEXT, o TEXT)");
  {
    auto insert = db.cached("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
    insert->bind(1, std::int64_t{9'007'199'254'740'993})
        .bind(2, std::string("caf\xC3\xA9 \"quoted\""))
        .bind(3, 2.5)
        .bind_null(4)
        .bind(5, std::optional<std::string>{"present"});
    insert->run();
  }
  CHECK(db.changes() == 1);
  CHECK(db.last_insert_rowid() == 1);

  auto select = db.cached("SELECT i, s, d, n, o FROM t");
  REQUIRE(select->step());
  CHECK(select->column_int(0) == 9'007'199'254'740'993);
  CHECK(select->column_text(1) == "caf\xC3\xA9 \"quoted\"");
  CHECK(select->column_double(2) == 2.5);
  CHECK(select->column_is_null(3));
  CHECK(select->column_optional_text(3) == std::nullopt);
  CHECK(select->column_text(3).empty());
  CHECK(select->column_optional_text(4) == std::optional<std::string>{"present"});
  CHECK_FALSE(select->column_is_null(1));
  CHECK_FALSE(select->step());
}

TEST_CASE("text with an embedded NUL and empty text are kept exactly", "[sqlite]") {
  Database db(":memory:");
  {
    auto statement = db.cached("SELECT ?1, typeof(?1), length(CAST(?1 AS BLOB))");
    statement->bind(1, std::string("a\0b", 3));
    REQUIRE(statement->step());
    CHECK(statement->column_text(0) == std::string("a\0b", 3));
    CHECK(statement->column_int(2) == 3);
  }
  {
    auto empty = db.cached("SELECT typeof(?1), ?1 IS NULL");
    empty->bind(1, std::string());
    REQUIRE(empty->step());
    CHECK(empty->column_text(0) == "text");
    CHECK(empty->column_int(1) == 0);
  }
  auto optional_null = db.cached("SELECT ?1 IS NULL");
  optional_null->bind(1, std::optional<std::int64_t>{});
  REQUIRE(optional_null->step());
  CHECK(optional_null->column_int(0) == 1);
}

TEST_CASE("a cached statement is prepared once and comes back reset", "[sqlite]") {
  Database db(":memory:");
  static const char* const kSql = "SELECT ?1";
  const Statement* first_address = nullptr;
  {
    auto first = db.cached(kSql);
    first->bind(1, 5);
    REQUIRE(first->step());
    CHECK(first->column_int(0) == 5);
    first_address = &*first;
  }  // left mid-iteration: the lease resets it and clears its bindings
  auto second = db.cached(kSql);
  CHECK(&*second == first_address);
  REQUIRE(second->step());
  CHECK(second->column_is_null(0));
}

TEST_CASE("a lease left mid-read keeps no lock that blocks another writer", "[sqlite]") {
  TempPath file("safer-lease");
  Database reader(file.path.string());
  reader.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  {
    auto select = reader.cached("SELECT x FROM t");
    REQUIRE(select->step());  // one row of three read, then abandoned
  }
  Database writer(file.path.string(), 50);
  Transaction transaction(writer);
  writer.exec("INSERT INTO t VALUES (4)");
  CHECK_NOTHROW(transaction.commit());  // a reader's pending SELECT would make COMMIT busy
  CHECK(count_rows(reader, "SELECT count(*) FROM t") == 4);
}

TEST_CASE("a transaction that is not committed leaves no trace", "[sqlite]") {
  Database db(":memory:");
  db.exec("CREATE TABLE t (x INTEGER)");
  SECTION("destroyed without commit") {
    {
      Transaction transaction(db);
      db.exec("INSERT INTO t VALUES (1), (2)");
      CHECK(count_rows(db, "SELECT count(*) FROM t") == 2);
    }
    CHECK(count_rows(db, "SELECT count(*) FROM t") == 0);
  }
  SECTION("left by an exception") {
    try {
      Transaction transaction(db);
      db.exec("INSERT INTO t VALUES (1)");
      db.exec("INSERT INTO no_such_table VALUES (1)");
      transaction.commit();
      FAIL("the bad insert should have thrown");
    } catch (const Failure& failure) {
      CHECK(failure.code() == SQLITE_ERROR);
      CHECK_THAT(failure.what(), Catch::Contains("no_such_table"));
    }
    CHECK(count_rows(db, "SELECT count(*) FROM t") == 0);
  }
  SECTION("committed") {
    {
      Transaction transaction(db);
      db.exec("INSERT INTO t VALUES (1)");
      transaction.commit();
    }
    CHECK(count_rows(db, "SELECT count(*) FROM t") == 1);
    Transaction next(db);  // the connection is usable for a new transaction
    next.commit();
  }
}

TEST_CASE("SQL errors and constraint violations throw Failure", "[sqlite]") {
  Database db(":memory:");
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
  CHECK_THROWS_AS(db.exec("NOT SQL"), Failure);
  CHECK_THROWS_AS(Statement(db.handle(), "SELECT * FROM missing"), Failure);
  db.exec("INSERT INTO t VALUES ('a')");
  Statement duplicate(db.handle(), "INSERT INTO t VALUES ('a')");
  try {
    duplicate.run();
    FAIL("a duplicate key should throw");
  } catch (const Failure& failure) {
    CHECK(failure.code() == SQLITE_CONSTRAINT);
    const auto error = to_error(failure);
    CHECK(error.code == "storage");
    CHECK_THAT(error.message, Catch::Contains("nothing was saved"));
  }
}

TEST_CASE("failures map to storage error codes", "[sqlite]") {
  CHECK(to_error(Failure(SQLITE_FULL, 0, "x")).code == "storage_full");
  CHECK(to_error(Failure(SQLITE_IOERR, ENOSPC, "x")).code == "storage_full");
  CHECK(to_error(Failure(SQLITE_IOERR, EDQUOT, "x")).code == "storage_full");
  CHECK(to_error(Failure(SQLITE_IOERR, EFBIG, "x")).code == "storage_full");
  CHECK(to_error(Failure(SQLITE_READONLY, 0, "x")).code == "storage_read_only");
  CHECK(to_error(Failure(SQLITE_BUSY, 0, "x")).code == "storage_busy");
  CHECK(to_error(Failure(SQLITE_LOCKED, 0, "x")).code == "storage_busy");
  CHECK(to_error(Failure(SQLITE_IOERR, EIO, "disk I/O")).code == "storage");
  CHECK(to_error(Failure(SQLITE_ERROR, ENOSPC, "x")).code == "storage");  // errno alone is not enough
  CHECK_THAT(to_error(Failure(SQLITE_IOERR, EIO, "disk I/O")).message, Catch::Contains("disk I/O"));
  for (int code : {SQLITE_FULL, SQLITE_READONLY, SQLITE_BUSY, SQLITE_IOERR}) {
    CHECK_THAT(to_error(Failure(code, 0, "x")).message, Catch::Contains("nothing was saved"));
  }
  CHECK(Failure(SQLITE_FULL, 0, "x").disk_full());
  CHECK_FALSE(Failure(SQLITE_BUSY, 0, "x").disk_full());
  CHECK(Failure(SQLITE_BUSY, 0, "x").code() == SQLITE_BUSY);
}

TEST_CASE("a database that cannot be opened throws", "[sqlite]") {
  CHECK_THROWS_AS(Database("/nonexistent-dir-for-safer-tests/sub/store.db"), Failure);
}

TEST_CASE("a writer blocked by another connection gets storage_busy", "[sqlite]") {
  TempPath file("safer-busy");
  Database holder(file.path.string());
  holder.exec("CREATE TABLE t (x INTEGER)");
  Database waiter(file.path.string(), 50);
  Transaction held(holder);
  try {
    Transaction blocked(waiter);
    FAIL("BEGIN IMMEDIATE should be refused while another writer holds the lock");
  } catch (const Failure& failure) {
    CHECK(failure.busy());
    CHECK(to_error(failure).code == "storage_busy");
  }
  held.commit();
  Transaction now_free(waiter);
  waiter.exec("INSERT INTO t VALUES (1)");
  now_free.commit();
  CHECK(count_rows(holder, "SELECT count(*) FROM t") == 1);
}

TEST_CASE("migrations run once, in order, each with its version", "[sqlite]") {
  Database db(":memory:");
  CHECK(db.pragma_int("user_version") == 0);
  REQUIRE(migrate(db, kMigrations, 1).ok());
  CHECK(db.pragma_int("user_version") == 1);
  db.exec("INSERT INTO visit (id, notes) VALUES ('a', 'kept')");
  REQUIRE(migrate(db, kMigrations, 2).ok());  // only migration 2 runs
  CHECK(db.pragma_int("user_version") == 2);
  REQUIRE(migrate(db, kMigrations, 2).ok());  // nothing left to run
  CHECK(count_rows(db, "SELECT count(*) FROM visit WHERE notes = 'kept' AND smoke = 0") == 1);
  CHECK(migrate(db, nullptr, 0).ok() == false);  // a program that knows no migrations
}

TEST_CASE("a store newer than the program is refused", "[sqlite]") {
  Database db(":memory:");
  db.exec("PRAGMA user_version = 7");
  const auto status = migrate(db, kMigrations, 2);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == "storage_version");
  CHECK_THAT(status.error().message, Catch::Contains("7") && Catch::Contains("2"));
  CHECK(db.pragma_int("user_version") == 7);
}

TEST_CASE("a failing migration leaves the store at the last whole version", "[sqlite]") {
  Database db(":memory:");
  const Migration broken[] = {
      {1, "CREATE TABLE a (x INTEGER)"},
      {2, "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1)"},
  };
  CHECK_THROWS_AS(migrate(db, broken, 2), Failure);
  CHECK(db.pragma_int("user_version") == 1);
  CHECK(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'a'") == 1);
  CHECK(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0);
}
