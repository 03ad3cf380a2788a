// Threads that each hold their own read connection to the store, for the work that only
// reads (authentication, welcome, pull, statistics), so that the network threads never
// wait on SQLite. WAL lets these reads run while the writer commits.
//
// Thread safety: post() and stop() from any thread; a job runs on one pool thread with that
// thread's store.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sync_server/server_store.h"

namespace sync_server {

class ReaderPool {
 public:
  // Opens `threads` stores on `path`. Throws std::runtime_error if one cannot be opened.
  ReaderPool(const std::string& path, const StoreOptions& options, std::size_t threads);
  ~ReaderPool();  // stop()

  void post(std::function<void(ServerStore&)> job);

  // Runs every job posted so far, then ends the threads.
  void stop();

 private:
  void run(ServerStore& store);

  std::vector<std::unique_ptr<ServerStore>> stores_;  // one per thread
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void(ServerStore&)>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                               // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace sync_server
