// A real sync-server process for end-to-end tests: its own database in a temporary
// directory, listening on 127.0.0.1 port 0, stopped (by its pid) when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace test_support {

class ServerProcess {
 public:
  // `db_path` defaults to a new database (test_database.h: a file in a new temporary directory,
  // or a PostgreSQL database). Extra arguments go to `serve`.
  // `env` is added to (or replaces entries of) the test's environment for `serve` only, not
  // for admin(): an LD_PRELOAD shim, say (tests/support/storage_fault_preload.c).
  explicit ServerProcess(std::vector<std::string> extra_args = {}, std::string db_path = "",
                         std::map<std::string, std::string> env = {});
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `sync-server serve` and waits (up to `deadline`) for its "listening on" line.
  // Throws std::runtime_error when it does not come.
  void start(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // SIGTERM, then waits for exit (SIGKILL after `deadline`). Returns the exit status.
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(20));
  // SIGKILL, as a crash or power cut would, and reaps the process.
  void kill_hard();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_); }
  const std::string& db_path() const { return db_path_; }
  // What the server logged to standard error so far (read from its log file).
  std::string log() const;

  // Runs an administration command on this server's database: enroll, revoke, audit list, …
  ProcessResult admin(std::vector<std::string> args) const;
  // Enrols a device and returns its token (fails the test on error).
  std::string enroll(const std::string& device, const std::string& user, const std::string& role) const;

 private:
  TempDir dir_;
  std::string db_path_;
  std::string log_path_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// The path of the sync-server binary under test.
std::string sync_server_binary();

}  // namespace test_support
