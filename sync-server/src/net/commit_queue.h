// Group commit: a writer thread applies the pushes of every connection, many batches per
// transaction, so that a burst of devices pays one fsync per group instead of one per batch.
// Each batch's callback runs only after the commit that made it durable. On PostgreSQL
// several writers (lanes) commit at once, each on its own connection, as several servers do.
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
#include <vector>

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
  std::string credential;  // DeviceRecord::credential the session authenticated with ("": not checked)
  safer::WriterRules rules;  // what the hello announced (share_basis, work_dates, questions)
};

class CommitQueue {
 public:
  // Takes the writer stores: one lane (a thread and its queue) each. A device's batches always
  // go to the same lane, in the order submitted. At most `max_group` batches go into one
  // transaction. Several writers only on PostgreSQL: SQLite has one writer.
  CommitQueue(std::vector<std::unique_ptr<ServerStore>> writers, std::size_t max_group);
  ~CommitQueue();  // stop()

  void submit(PushJob job);

  // Finishes every job submitted so far, then ends the writer threads. Jobs submitted after
  // stop() fail at once ("unavailable").
  void stop();

 private:
  struct Lane {
    std::unique_ptr<ServerStore> writer;  // used on the lane's thread only
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<PushJob, std::chrono::steady_clock::time_point>> queue;  // guarded by mutex
    bool stopping = false;                                                        // guarded by mutex
    std::thread thread;
  };
  void run(Lane& lane);

  const std::size_t max_group_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace sync_server
