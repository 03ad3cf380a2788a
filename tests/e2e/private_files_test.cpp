// The server's database and a tablet's store hold personal data: the programs create them
// 0600 (with their -wal and -shm) in directories they make 0700, whatever the umask, and warn
// when an existing one can be read by other users of the machine.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "process.h"
#include "server_process.h"
#include "temp_dir.h"

namespace {

using test_support::run_process;

unsigned mode_of(const std::string& path) {
  struct stat info {};
  INFO(path);
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// Runs `args` with umask 0, the most permissive a user could have, through the shell.
test_support::ProcessResult with_umask_0(const std::vector<std::string>& args) {
  std::vector<std::string> shell = {"/bin/sh", "-c", "umask 0 && exec \"$@\"", "sh"};
  shell.insert(shell.end(), args.begin(), args.end());
  return run_process(shell);
}

}  // namespace

TEST_CASE("the server's database, -wal and -shm are 0600 in directories it made 0700", "[e2e][permissions][sqlite-only]") {
  test_support::TempDir dir;
  const std::string db = dir.file("var/lib/sync.db");
  const auto enrolled = with_umask_0({test_support::sync_server_binary(), "enroll", "--db", db, "--device", "tablet-1",
                                      "--user", "officer.ann", "--role", "officer"});
  INFO(enrolled.err);
  REQUIRE(enrolled.exit_code == 0);
  CHECK(mode_of(dir.file("var")) == 0700);
  CHECK(mode_of(dir.file("var/lib")) == 0700);
  CHECK(mode_of(db) == 0600);
  CHECK(enrolled.err.find("warning") == std::string::npos);

  test_support::ServerProcess server({}, db);
  server.start();  // holds the database open: its -wal and -shm exist while it runs
  CHECK(mode_of(db + "-wal") == 0600);
  CHECK(mode_of(db + "-shm") == 0600);
  CHECK(server.log().find("store_exposed") == std::string::npos);
}

TEST_CASE("the server warns about a database other users can read", "[e2e][permissions][sqlite-only]") {
  test_support::TempDir dir;
  const std::string db = dir.file("sync.db");
  const std::vector<std::string> enroll = {test_support::sync_server_binary(), "enroll", "--db", db, "--device", "t1",
                                           "--user", "officer.ann", "--role", "officer"};
  REQUIRE(run_process(enroll).exit_code == 0);
  REQUIRE(::chmod(db.c_str(), 0644) == 0);
  const auto admin = run_process({test_support::sync_server_binary(), "revoke", "--db", db, "--device", "t1"});
  CHECK(admin.exit_code == 0);  // a warning, not a refusal
  CHECK(admin.err.find("warning: other users of this machine can read " + db) != std::string::npos);
  CHECK(admin.err.find("chmod 600") != std::string::npos);
  test_support::ServerProcess server({}, db);
  server.start();
  CHECK(server.log().find("store_exposed") != std::string::npos);
}

TEST_CASE("a tablet's store is 0600 in directories field-client made 0700, and warned about when readable",
          "[e2e][permissions]") {
  test_support::TempDir dir;
  const std::string store = dir.file("home/.local/share/safer-streets/field-client.db");
  const auto status = with_umask_0({FIELD_CLIENT_BINARY, "--store", store, "status"});
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  CHECK(mode_of(dir.file("home")) == 0700);
  CHECK(mode_of(dir.file("home/.local/share/safer-streets")) == 0700);
  CHECK(mode_of(store) == 0600);
  CHECK(status.err.find("warning") == std::string::npos);

  REQUIRE(::chmod(store.c_str(), 0640) == 0);
  const auto warned = run_process({FIELD_CLIENT_BINARY, "--store", store, "status"});
  CHECK(warned.exit_code == 0);
  CHECK(warned.err.find("warning: other users of this machine can read " + store) != std::string::npos);
  CHECK(warned.err.find("(mode 0640") != std::string::npos);
  CHECK(warned.err.find("chmod 600 " + store) != std::string::npos);
}
