// The WAL of the SQLite writer, checkpointed on a thread of its own (issue 17).
//
// SQLite's automatic checkpoint runs inside the commit that crossed its threshold, on the
// writer's thread: every push in the group waited while a checkpoint copied the WAL into the
// database and fsynced it. A WalCheckpointer replaces it (sqlite3_wal_hook on the writer's
// connection): after a commit that leaves `start_pages` or more in the WAL, it wakes its thread,
// which checkpoints with a connection of its own (SQLITE_CHECKPOINT_PASSIVE: it never blocks
// the writer or a reader, and copies what no reader still needs). SQLite starts the WAL again
// from its beginning at the first commit after a checkpoint that copied all of it.
//
// The WAL stays bounded if the thread falls behind: after a commit that leaves `limit_pages` or
// more, the writer checkpoints there and then, as SQLite would have; it copies only what the
// thread had not. Durability is unchanged: a commit is on disk when its WAL frames are fsynced
// (synchronous = FULL), whoever checkpoints later.
//
// Thread safety: construct and destroy while no thread commits on the writer's connection
// (serve does both with the store, before and after its writer thread runs); counts() from any
// thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace safer::sqlite {
class Database;
}

namespace sync_server {

class WalCheckpointer {
 public:
  struct Counts {
    std::uint64_t background = 0;  // checkpoints the thread ran
    std::uint64_t on_writer = 0;   // checkpoints the writer ran, the WAL being at limit_pages
  };

  // `writer` is the connection that commits; `path` its database file. Throws
  // safer::sqlite::Failure if the thread's connection cannot be opened.
  WalCheckpointer(sqlite3* writer, const std::string& path, int start_pages, int limit_pages);
  // Stops the thread and gives the writer SQLite's own automatic checkpoint back.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  Counts counts() const;

 private:
  static int after_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  sqlite3* const writer_;
  const int start_pages_;
  const int limit_pages_;
  std::unique_ptr<safer::sqlite::Database> own_;  // used on thread_ only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false;    // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  Counts counts_;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace sync_server
