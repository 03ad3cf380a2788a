// Where a test keeps the sync server's database: a SQLite file in the test's temporary
// directory, or — when the environment has SAFER_TEST_DB=postgresql — a new database in a
// private PostgreSQL cluster (pg_cluster.h) that the test program starts on first use and
// stops when it exits. CTest runs the store and end-to-end suites both ways
// (tests/CMakeLists.txt), so that every protocol test holds on both backends.
#pragma once

#include <string>

#include "temp_dir.h"

namespace test_support {

// Whether this run's tests use PostgreSQL.
bool testing_postgresql();

// A new, empty database: `dir`/`file_name` on SQLite, or a postgresql:// URL.
std::string new_test_database(const TempDir& dir, const std::string& file_name = "server.db");

// A new, empty PostgreSQL database in the program's cluster, whatever SAFER_TEST_DB says (for
// the tests of several servers over one database). Its postgresql:// URL.
std::string new_postgresql_database();

}  // namespace test_support
