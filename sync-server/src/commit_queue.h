// Group commit: one writer thread applies the pushes of every connection, many batches per
// SQLite transaction, so that a burst of devices pays one fsync per group instead of one per
// batch. Each batch's callback runs only after the commit that made it durable.
//
// Thread safety: submit() and stop() may be called from any thread. Callbacks run on the
// writer thread and must only hand their result on (post it to a session's strand).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "sync_server/server_store.h"

namespace sync_server {

struct PushResult {
  std::optional<PushOutcome> outcome;  // set when the batch's group committed
  std::optional<Error> failure;        // set when it could not be stored: nothing was applied
  double queued_ms = 0;                // waiting for the writer
  double commit_ms = 0;                // applying and committing the group
  std::size_t group_batches = 0;       // batches committed together with this one
};

struct PushJob {
  DeviceIdentity device;
  safer::ReceivedPush push;
  std::function<void(PushResult)> done;
  std::vector<std::string> prepared;  // ServerStore::prepare_push(push), made before submit(); may be empty
};

class CommitQueue {
 public:
  // Takes the writer store. At most `max_group` batches go into one transaction.
  CommitQueue(std::unique_ptr<ServerStore> writer, std::size_t max_group);
  ~CommitQueue();  // stop()

  void submit(PushJob job);

  // Finishes every job submitted so far, then ends the writer thread. Jobs submitted after
  // stop() fail at once ("unavailable").
  void stop();

 private:
  void run();

  std::unique_ptr<ServerStore> writer_;  // used on the writer thread only
  const std::size_t max_group_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<PushJob, std::chrono::steady_clock::time_point>> queue_;  // guarded by mutex_
  bool stopping_ = false;                                                        // guarded by mutex_
  std::thread thread_;
};

}  // namespace sync_server
