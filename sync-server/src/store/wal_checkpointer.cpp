#include "wal_checkpointer.h"

#include <sqlite3.h>

#include "safer/sqlite.h"

namespace sync_server {

namespace {
constexpr int kSqliteDefaultPages = 1000;  // SQLite's automatic checkpoint threshold
}  // namespace

WalCheckpointer::WalCheckpointer(sqlite3* writer, const std::string& path, int start_pages, int limit_pages)
    : writer_(writer),
      start_pages_(start_pages),
      limit_pages_(limit_pages),
      own_(std::make_unique<safer::sqlite::Database>(path)) {
  thread_ = std::thread([this] { run(); });
  sqlite3_wal_hook(writer_, &WalCheckpointer::after_commit, this);  // replaces the automatic checkpoint
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_, kSqliteDefaultPages);  // sets SQLite's own hook again
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

WalCheckpointer::Counts WalCheckpointer::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

// On the writer's thread, after each commit, with the pages the WAL now holds.
int WalCheckpointer::after_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& checkpointer = *static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer.limit_pages_) {
    // SQLITE_BUSY when the thread is checkpointing: it copies what this would have.
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) == SQLITE_OK) {
      std::lock_guard lock(checkpointer.mutex_);
      ++checkpointer.counts_.on_writer;
    }
  } else if (pages >= checkpointer.start_pages_) {
    {
      std::lock_guard lock(checkpointer.mutex_);
      checkpointer.wanted_ = true;
    }
    checkpointer.wake_.notify_one();
  }
  // An error here would make the COMMIT report one although it committed: a checkpoint that
  // failed is tried again after the next commit instead.
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    // A failure (the disk full, say) leaves the WAL as it was, every commit in it durable: the
    // next commit over start_pages asks again.
    const int code = sqlite3_wal_checkpoint_v2(own_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    if (code == SQLITE_OK) ++counts_.background;
  }
}

}  // namespace sync_server
