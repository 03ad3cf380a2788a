// The database layer's translation of SQLite's parameters into PostgreSQL's (db.h): the
// store's SQL is written once, so every query on PostgreSQL depends on it.
#include <catch2/catch.hpp>

#include "sync_server/db.h"

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
