// The database layer (db.h): the translation of SQLite's parameters into PostgreSQL's (the
// store's SQL is written once, so every query on PostgreSQL depends on it), and the writing
// of many rows by one statement.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "sync_server/db.h"
#include "temp_dir.h"
#include "test_database.h"

using sync_server::db::postgresql_parameters;

TEST_CASE("?NNN and bare ? become $N, as SQLite numbers them", "[db]") {
  CHECK(postgresql_parameters("SELECT a FROM t WHERE b = ? AND c = ?") == "SELECT a FROM t WHERE b = $1 AND c = $2");
  CHECK(postgresql_parameters("VALUES (?1, ?2, ?1)") == "VALUES ($1, $2, $1)");
  // A bare ? takes one more than the greatest number so far (SQLite's rule).
  CHECK(postgresql_parameters("?3, ?, ?1, ?") == "$3, $4, $1, $5");
  CHECK(postgresql_parameters("x = ?12") == "x = $12");
}

TEST_CASE("question marks inside string literals and quoted names stay", "[db]") {
  CHECK(postgresql_parameters("SELECT json_extract(data, '$.a?') FROM t WHERE id = ?") ==
        "SELECT json_extract(data, '$.a?') FROM t WHERE id = $1");
  CHECK(postgresql_parameters("SELECT \"odd?name\" FROM t WHERE x = ?2") == "SELECT \"odd?name\" FROM t WHERE x = $2");
  // A doubled quote inside a literal neither ends it nor starts another.
  CHECK(postgresql_parameters("WHERE a = 'it''s ?' AND b = ?") == "WHERE a = 'it''s ?' AND b = $1");
  CHECK(postgresql_parameters("LIKE ?2 ESCAPE '\\'") == "LIKE $2 ESCAPE '\\'");
}

TEST_CASE("an array literal quotes every text element, so any text is one element", "[db]") {
  using sync_server::db::ArrayLiteral;
  CHECK(ArrayLiteral().text() == "{}");
  ArrayLiteral texts;
  texts.add("plain").add("a,b").add("say \"hi\"").add("back\\slash").add("{braces}").add("").add("NULL");
  CHECK(texts.size() == 7);
  CHECK(texts.text() == R"({"plain","a,b","say \"hi\"","back\\slash","{braces}","","NULL"})");
  CHECK(ArrayLiteral().add(std::int64_t{1}).add(std::int64_t{-20}).add(std::int64_t{0}).text() == "{1,-20,0}");
  // A NULL element is unquoted; the text "NULL" is not one.
  using sync_server::db::Cell;
  CHECK(ArrayLiteral().add_cell(Cell{}).add_cell(Cell{std::int64_t{3}}).add_cell(Cell{std::string("NULL")}).text() ==
        R"({NULL,3,"NULL"})");
}

// Why: the statistics' flush writes a table's rows in one statement on PostgreSQL and once a
// row on SQLite (stats.cpp); the two must write, and return, the same rows.
TEST_CASE("a RowsWriter writes every row added, and gives back what they return, on either backend", "[db]") {
  using sync_server::db::Database;
  test_support::TempDir dir;
  const auto db = Database::open(test_support::new_test_database(dir));
  db->exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL)");
  db->exec("INSERT INTO t VALUES ('kept', 5)");
  const std::vector<std::string> keys = {"kept", "a,b", "say \"hi\"", "back\\slash", "{braces}", "", "NULL", "Ünïcödé"};
  std::map<std::string, std::int64_t> returned;
  {
    sync_server::db::Transaction transaction(*db);
    sync_server::db::RowsWriter rows(
        *db,
        *db->cached(db->postgresql() ? "INSERT INTO t AS s SELECT * FROM unnest(?1::text[], ?2::bigint[]) ON CONFLICT (k)"
                                       " DO UPDATE SET n = s.n + excluded.n RETURNING k, n"
                                     : "INSERT INTO t AS s VALUES (?1, ?2) ON CONFLICT (k)"
                                       " DO UPDATE SET n = s.n + excluded.n RETURNING k, n"),
        [&returned](const sync_server::db::Statement& row) { returned[row.column_text(0)] = row.column_int(1); });
    std::int64_t n = 0;
    for (const auto& key : keys) rows.add(key).add(++n).end_row();
    rows.finish();
    transaction.commit();
  }
  REQUIRE(returned.size() == keys.size());
  CHECK(returned.at("kept") == 6);  // 5 stored, 1 added
  CHECK(returned.at("Ünïcödé") == 8);
  std::map<std::string, std::int64_t> stored;
  auto all = db->cached("SELECT k, n FROM t");
  while (all->step()) stored[all->column_text(0)] = all->column_int(1);
  CHECK(stored == returned);

  // No row added: nothing runs (an empty array would be a statement for nothing).
  sync_server::db::RowsWriter none(*db, *db->cached("DELETE FROM t"));
  none.finish();
  auto count = db->cached("SELECT count(*) FROM t");
  REQUIRE(count->step());
  CHECK(count->column_int(0) == static_cast<std::int64_t>(keys.size()));
}

// Why: `group_retry` log lines name the cause (commit_queue.cpp); when every group ran again
// under load, the log said only that they did (issue 17's deadlock on referral_totals).
TEST_CASE("a deadlock PostgreSQL breaks is a retryable failure whose cause says so", "[db][postgresql]") {
  using sync_server::db::Database;
  const std::string url = test_support::new_postgresql_database();
  const auto first = Database::open(url), second = Database::open(url);
  first->exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO t VALUES ('a', 0), ('b', 0)");
  first->begin(Database::TransactionKind::write);
  second->begin(Database::TransactionKind::write);
  first->exec("UPDATE t SET n = 1 WHERE k = 'a'");
  second->exec("UPDATE t SET n = 2 WHERE k = 'b'");
  // Each then wants the other's row: PostgreSQL ends one of them (after deadlock_timeout).
  struct Outcome {
    std::string cause;
    bool retryable = false;
  };
  const auto update = [](Database& db, const char* sql, Outcome& outcome) {
    try {
      db.exec(sql);
    } catch (const sync_server::db::Failure& failure) {
      outcome = {failure.cause(), failure.retryable()};
      db.rollback();
    }
  };
  Outcome first_outcome, second_outcome;
  std::thread waiting([&] { update(*first, "UPDATE t SET n = 1 WHERE k = 'b'", first_outcome); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // until it waits (either order deadlocks)
  update(*second, "UPDATE t SET n = 2 WHERE k = 'a'", second_outcome);
  if (second_outcome.cause.empty()) second->commit();  // the survivor ends, so the other may too
  waiting.join();
  if (first_outcome.cause.empty()) first->commit();
  CHECK(first_outcome.cause + second_outcome.cause == "deadlock");  // exactly one was broken
  CHECK(first_outcome.retryable != second_outcome.retryable);
}
