// A private PostgreSQL cluster for one test program: initdb in a temporary directory, a
// postmaster listening only on a Unix socket in that directory, stopped (immediate mode) and
// removed on destruction. As root, the cluster runs as the unprivileged user `nobody`
// (initdb refuses root). The binaries are Debian's (/usr/lib/postgresql/<version>/bin; the
// package `postgresql`, which scripts/install-deps.sh installs with the test dependencies).
//
// Every wait has a deadline (pg_ctl -w -t); the postmaster's pid is read from postmaster.pid,
// and killed by it if pg_ctl cannot stop it — or, if the test program dies first (a crash, a
// sanitizer's abort), by a watcher process that sees the program's pipe close.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "temp_dir.h"

namespace test_support {

class PgCluster {
 public:
  // Throws std::runtime_error naming what failed (no PostgreSQL binaries, initdb, start).
  // Not `durable`: fsync and autovacuum off, for tests (a killed server process loses nothing
  // either way; only the machine's power could). Benchmarks ask for a durable one, which has
  // PostgreSQL's defaults.
  explicit PgCluster(bool durable = false);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // The libpq connection string of database `name` (created by create_database, or the
  // default "postgres").
  std::string conninfo(const std::string& name = "postgres") const;
  // The same as a postgresql:// URL (the sync server's --db takes URLs).
  std::string url(const std::string& name = "postgres") const;
  // A new, empty database; returns its conninfo.
  std::string create_database(const std::string& name);
  pid_t postmaster_pid() const { return pid_; }

  // The directory holding Debian's PostgreSQL binaries, if any is installed.
  static std::optional<std::string> binaries();

 private:
  int run_as_owner(const std::string& command) const;
  void start_watcher();

  TempDir dir_;
  std::string bin_;
  std::string data_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool as_nobody_ = false;
  pid_t watcher_ = -1;     // stops the cluster if this program ends without the destructor
  int watcher_pipe_ = -1;  // its stdin: closes when this program ends, however it ends
};

}  // namespace test_support
