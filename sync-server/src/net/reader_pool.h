// Threads that each hold their own read connection to the store, for the work that only
// reads (authentication, welcome, pull, statistics), so that the network threads never
// wait on SQLite. WAL lets these reads run while the writer commits.
//
// The same class, built with a queue limit, is the login pool: password checks (one scrypt,
// 128 MiB and a fraction of a second each) run there, apart from handshakes and pulls, and
// a check that finds the queue full is refused at once rather than waiting behind it.
//
// Thread safety: post(), try_post() and stop() from any thread; a job runs on one pool
// thread with that thread's store.
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
  // `max_queued` bounds try_post()'s queue (0: unbounded); post() ignores it.
  ReaderPool(const std::string& path, const StoreOptions& options, std::size_t threads, std::size_t max_queued = 0);
  ~ReaderPool();  // stop()

  using Job = std::function<void(ServerStore&)>;

  void post(Job job);

  // Queues `job` unless `max_queued` jobs are already waiting in its lane; returns false (and
  // drops `job`) when its lane is full. Priority jobs have a lane of their own, as long,
  // served before the other: a coordinator known to this browser (device cookie) gets in
  // during a flood of strangers' attempts.
  bool try_post(Job job, bool priority = false);

  // Runs every job posted so far, then ends the threads.
  void stop();

 private:
  void run(ServerStore& store);

  std::vector<std::unique_ptr<ServerStore>> stores_;  // one per thread
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::size_t max_queued_;                        // constant after construction
  std::deque<Job> priority_jobs_;                       // guarded by mutex_
  std::deque<Job> jobs_;                                // guarded by mutex_
  bool stopping_ = false;                               // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace sync_server
