// The stores hold personal data: the files SQLite makes for them, and the directories made
// above them, must be private to their owner whatever the umask of the program that made them.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "safer/sqlite.h"

namespace {

unsigned mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// A new directory under the temp directory, removed with everything in it.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sqlite-perm-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Sets the process's umask for one scope.
struct Umask {
  mode_t previous;
  explicit Umask(mode_t mask) : previous(::umask(mask)) {}
  ~Umask() { ::umask(previous); }
};

}  // namespace

TEST_CASE("a database is created 0600, with its -wal and -shm, in directories made 0700", "[sqlite][permissions]") {
  ScratchDir scratch;
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    INFO("umask " << mask);
    const std::string folder = scratch.path + "/u" + std::to_string(mask);
    const std::string path = folder + "/nested/store.db";
    {
      const Umask umask(mask);
      safer::sqlite::make_private_parent_directories(path);
      safer::sqlite::Database db(path);
      db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
      CHECK(mode_of(folder) == 0700);
      CHECK(mode_of(folder + "/nested") == 0700);
      CHECK(mode_of(path) == 0600);
      CHECK(mode_of(path + "-wal") == 0600);
      CHECK(mode_of(path + "-shm") == 0600);
      CHECK(safer::sqlite::exposure_warning(path).empty());
    }
  }
}

TEST_CASE("an existing database keeps its mode, and a readable one is warned about", "[sqlite][permissions]") {
  ScratchDir scratch;
  const std::string path = scratch.path + "/old.db";
  { safer::sqlite::Database db(path); }
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  safer::sqlite::Database db(path);
  CHECK(mode_of(path) == 0644);
  const auto warning = safer::sqlite::exposure_warning(path);
  CHECK(warning.find(path + " (mode 0644)") != std::string::npos);
  CHECK(warning.find("chmod 600 " + path) != std::string::npos);
  CHECK(mode_of(scratch.path) == 0700);  // mkdtemp's; an existing directory is left alone
  CHECK(safer::sqlite::exposure_warning(":memory:").empty());
}
