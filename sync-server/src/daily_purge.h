// The retention purge that `serve` runs by itself (sync_server/retention.h): on a thread of
// its own with its own store connection, so that it never holds up the network threads, the
// commit queue or the readers; its batches commit one at a time, so pushes commit between them.
//
// Thread safety: construct and destroy on one thread; the purge thread touches nothing else.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sync_server {

class DailyPurge {
 public:
  // Runs the purge `first_delay` from now, then every `interval`. Each run logs one line
  // (retention_purge, or retention_purge_failed with the error code) and leaves one audit entry.
  DailyPurge(std::string db_location, std::chrono::milliseconds first_delay, std::chrono::milliseconds interval);
  // Stops the timer and waits for a run in progress to finish.
  ~DailyPurge();
  DailyPurge(const DailyPurge&) = delete;
  DailyPurge& operator=(const DailyPurge&) = delete;

 private:
  void loop();
  void run_once();

  // Constant after construction.
  const std::string db_location_;
  const std::chrono::milliseconds first_delay_, interval_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts once the rest is set
};

}  // namespace sync_server
