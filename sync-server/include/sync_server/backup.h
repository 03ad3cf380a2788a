// `sync-server backup`: an online copy of a SQLite store, taken while the server runs and
// tablets push, checked before it is reported (docs/server.md, "Backup").
#pragma once

#include <cstdint>
#include <string>

#include "sync_server/audit.h"
#include "sync_server/server_store.h"

namespace sync_server {

// What a backup holds, read back from the copy itself.
struct BackupSummary {
  std::int64_t bytes = 0;
  std::int64_t schema_version = 0;
  std::int64_t records = 0;  // live and deleted versions of households, visits and sessions
  std::int64_t devices = 0;
};

class Backup {
 public:
  explicit Backup(ServerStore& store) : store_(store) {}

  // Copies the store into `file`, a new file only its owner can read (0600): one consistent
  // snapshot (every change committed before the copy began, none after; the server goes on
  // committing meanwhile), synced to disk, then opened and checked: SQLite's integrity check,
  // the schema version, the records and devices counted. Audited (`backup`) by `by`.
  // Errors: "invalid" when `file` exists (a backup never overwrites) or cannot be created
  // there; "unsupported" on PostgreSQL (pg_dump is its tool); "storage" when the copy or
  // its check fails — the file is then removed.
  Result<BackupSummary> to(const std::string& file, const Actor& by);

 private:
  ServerStore& store_;
};

}  // namespace sync_server
