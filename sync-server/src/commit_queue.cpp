#include "commit_queue.h"

#include "db.h"
#include "log.h"

namespace sync_server {

namespace {

double millis_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Error unavailable(const std::string& why) {
  return Error{"unavailable", "the server could not store the changes (" + why +
                                  "); nothing was applied; try again later", ""};
}

}  // namespace

CommitQueue::CommitQueue(std::unique_ptr<ServerStore> writer, std::size_t max_group)
    : writer_(std::move(writer)), max_group_(max_group), thread_([this] { run(); }) {}

CommitQueue::~CommitQueue() { stop(); }

void CommitQueue::submit(PushJob job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.emplace_back(std::move(job), std::chrono::steady_clock::now());
      wake_.notify_one();
      return;
    }
  }
  PushResult result;
  result.failure = unavailable("the server is shutting down");
  job.done(std::move(result));
}

void CommitQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void CommitQueue::run() {
  for (;;) {
    std::vector<std::pair<PushJob, std::chrono::steady_clock::time_point>> group;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to do
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }

    const auto started = std::chrono::steady_clock::now();
    std::vector<PushResult> results(group.size());
    // On PostgreSQL a group may meet another server's transaction (a deadlock, a record both
    // inserted): nothing of it was kept, so it runs again, a few times, before it fails.
    for (int attempt = 1;; ++attempt) {
      try {
        writer_->begin_group();
        for (std::size_t i = 0; i < group.size(); ++i) {
          results[i].queued_ms = std::chrono::duration<double, std::milli>(started - group[i].second).count();
          results[i].outcome = writer_->apply_push(group[i].first.device, group[i].first.push, group[i].first.prepared);
        }
        writer_->commit_group();
        break;
      } catch (const db::Failure& failure) {
        writer_->abandon_group();
        for (auto& result : results) result.outcome.reset();
        if (failure.retryable() && attempt < ServerStore::kGroupAttempts) {
          log::line("group_retry", "attempt=" + std::to_string(attempt) + " batches=" + std::to_string(group.size()));
          continue;
        }
        const Error error = unavailable(failure.error().code);
        for (auto& result : results) result.failure = error;
        break;
      }
    }
    const double commit_ms = millis_since(started);
    for (std::size_t i = 0; i < group.size(); ++i) {
      results[i].commit_ms = commit_ms;
      results[i].group_batches = group.size();
      group[i].first.done(std::move(results[i]));
    }
  }
}

}  // namespace sync_server
