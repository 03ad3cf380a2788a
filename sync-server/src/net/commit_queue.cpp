#include "commit_queue.h"

#include "sync_server/db.h"
#include "log.h"
#include "server_metrics.h"
#include "safer/error_codes.h"

namespace sync_server {

namespace {

double millis_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Error unavailable(const std::string& why) {
  return Error{std::string(safer::codes::kUnavailable), "the server could not store the changes (" + why +
                                  "); nothing was applied; try again later", ""};
}

}  // namespace

CommitQueue::CommitQueue(std::vector<std::unique_ptr<ServerStore>> writers, std::size_t max_group)
    : max_group_(max_group) {
  for (auto& writer : writers) {
    lanes_.push_back(std::make_unique<Lane>());
    lanes_.back()->writer = std::move(writer);
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, lane = lane.get()] { run(*lane); });
}

CommitQueue::~CommitQueue() { stop(); }

void CommitQueue::submit(PushJob job) {
  // By device: its batches stay in order (a later one never commits before an earlier one).
  auto& lane = *lanes_[std::hash<std::string>{}(job.device.device_id) % lanes_.size()];
  {
    std::lock_guard lock(lane.mutex);
    if (!lane.stopping) {
      lane.queue.emplace_back(std::move(job), std::chrono::steady_clock::now());
      lane.wake.notify_one();
      return;
    }
  }
  PushResult result;
  result.failure = unavailable("the server is shutting down");
  job.done(std::move(result));
}

void CommitQueue::stop() {
  for (auto& lane : lanes_) {
    std::lock_guard lock(lane->mutex);
    lane->stopping = true;
    lane->wake.notify_one();
  }
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

void CommitQueue::run(Lane& lane) {
  auto& writer = lane.writer;
  for (;;) {
    std::vector<std::pair<PushJob, std::chrono::steady_clock::time_point>> group;
    {
      std::unique_lock lock(lane.mutex);
      lane.wake.wait(lock, [&lane] { return lane.stopping || !lane.queue.empty(); });
      if (lane.queue.empty()) return;  // stopping, and nothing left to do
      while (!lane.queue.empty() && group.size() < max_group_) {
        group.push_back(std::move(lane.queue.front()));
        lane.queue.pop_front();
      }
    }

    const auto started = std::chrono::steady_clock::now();
    std::vector<PushResult> results(group.size());
    // On PostgreSQL a group may meet another server's transaction (a deadlock, a record both
    // inserted): nothing of it was kept, so it runs again, a few times, before it fails.
    for (int attempt = 1;; ++attempt) {
      try {
        writer->begin_group();
        for (std::size_t i = 0; i < group.size(); ++i) {
          results[i].queued_ms = std::chrono::duration<double, std::milli>(started - group[i].second).count();
          results[i].outcome = writer->apply_push(group[i].first.device, group[i].first.push, group[i].first.prepared,
                                                  group[i].first.credential, group[i].first.rules);
        }
        writer->commit_group();
        break;
      } catch (const db::Failure& failure) {
        writer->abandon_group();
        for (auto& result : results) result.outcome.reset();
        if (failure.retryable() && attempt < ServerStore::kGroupAttempts) {
          log::line("group_retry", "attempt=" + std::to_string(attempt) + " batches=" + std::to_string(group.size()) +
                                       " cause=" + failure.cause());
          continue;
        }
        const Error error = unavailable(failure.error().code);
        for (auto& result : results) result.failure = error;
        break;
      }
    }
    const double commit_ms = millis_since(started);
    auto& metrics = net::server_metrics();
    metrics.commit_group_batches.observe(static_cast<double>(group.size()));
    metrics.commit_seconds.observe(commit_ms / 1000.0);
    for (std::size_t i = 0; i < group.size(); ++i) {
      results[i].commit_ms = commit_ms;
      results[i].group_batches = group.size();
      group[i].first.done(std::move(results[i]));
    }
  }
}

}  // namespace sync_server
