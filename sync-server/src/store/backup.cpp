// `sync-server backup` (backup.h): VACUUM INTO a new private file, from the store's own read
// snapshot (WAL: the server keeps committing meanwhile), synced, then checked from the copy.
#include "sync_server/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "safer/sqlite.h"
#include "store_impl.h"

namespace sync_server {

namespace {

// fsync of a file or directory; false when it cannot be done.
bool sync_to_disk(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

// Reads the copy back: its integrity, schema version and counts. Throws on a failed check.
BackupSummary check_copy(const std::string& file) {
  safer::sqlite::Database copy(file);
  {
    auto integrity = copy.cached("PRAGMA integrity_check");
    if (!integrity->step() || integrity->column_text(0) != "ok") {
      throw std::runtime_error("the copy failed SQLite's integrity check");
    }
  }
  BackupSummary summary;
  summary.schema_version = copy.pragma_int("user_version");
  const auto count = [&copy](const char* sql) {
    auto rows = copy.cached(sql);
    rows->step();
    return rows->column_int(0);
  };
  summary.records = count("SELECT count(*) FROM records");
  summary.devices = count("SELECT count(*) FROM devices");
  summary.bytes = static_cast<std::int64_t>(std::filesystem::file_size(file));
  return summary;
}

}  // namespace

Result<BackupSummary> Backup::to(const std::string& file, const Actor& by) {
  auto& impl = *store_.impl_;
  if (impl.db.postgresql()) {
    return Error{"unsupported",
                 "backup copies a SQLite store; back up a PostgreSQL database with pg_dump (docs/server.md, Backup)", "to"};
  }
  // O_EXCL: never over an existing file; 0600 from the start, as the copy holds every address.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) return Error{"invalid", "--to " + file + " already exists: a backup never overwrites one", "to"};
    return Error{"invalid", "cannot create --to " + file + ": " + std::strerror(error), "to"};
  }
  ::close(fd);
  const auto failed = [&file](const std::string& why) -> Error {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    return Error{"storage", "the backup failed (" + why + ") and " + file + " was removed", "to"};
  };
  try {
    impl.db.cached("VACUUM INTO ?")->bind(1, file).run();  // into the empty file made above
  } catch (const std::exception& failure) {
    return failed(failure.what());
  }
  std::filesystem::path directory = std::filesystem::path(file).parent_path();
  if (directory.empty()) directory = ".";
  if (!sync_to_disk(file, O_RDONLY) || !sync_to_disk(directory, O_RDONLY | O_DIRECTORY)) {
    return failed("it could not be synced to disk");
  }
  BackupSummary summary;
  try {
    summary = check_copy(file);
  } catch (const std::exception& failure) {
    return failed(failure.what());
  }
  AuditEntry entry{by, kAuditBackup};
  entry.detail = "bytes=" + std::to_string(summary.bytes) + " records=" + std::to_string(summary.records) +
                 " devices=" + std::to_string(summary.devices) + " schema=" + std::to_string(summary.schema_version);
  // A copy of every address that is not in the audit trail must not stay behind.
  if (auto audited = AuditLog(store_).append(entry); !audited) return failed("its audit entry could not be written");
  return summary;
}

}  // namespace sync_server
