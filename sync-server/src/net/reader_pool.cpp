#include "reader_pool.h"

#include <stdexcept>

#include "log.h"
#include "sync_server/db.h"

namespace sync_server {

ReaderPool::ReaderPool(const std::string& path, const StoreOptions& options, std::size_t threads, std::size_t max_queued)
    : max_queued_(max_queued) {
  for (std::size_t i = 0; i < threads; ++i) {
    auto store = ServerStore::open(path, options);
    if (!store) throw std::runtime_error(store.error().message);
    stores_.push_back(std::move(*store));
  }
  for (auto& store : stores_) threads_.emplace_back([this, s = store.get()] { run(*s); });
}

ReaderPool::~ReaderPool() { stop(); }

void ReaderPool::post(Job job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  wake_.notify_one();
}

bool ReaderPool::try_post(Job job, bool priority) {
  std::lock_guard lock(mutex_);
  auto& lane = priority ? priority_jobs_ : jobs_;
  if (max_queued_ > 0 && lane.size() >= max_queued_) return false;
  lane.push_back(std::move(job));
  wake_.notify_one();
  return true;
}

void ReaderPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void ReaderPool::run(ServerStore& store) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty() || !priority_jobs_.empty(); });
      auto& lane = priority_jobs_.empty() ? jobs_ : priority_jobs_;
      if (lane.empty()) return;
      job = std::move(lane.front());
      lane.pop_front();
    }
    try {
      job(store);
    } catch (const db::Failure& failure) {
      // The job's own callback was not reached; its session times out and the client retries.
      log::line("read_failed", std::string("code=") + failure.error().code);
    }
  }
}

}  // namespace sync_server
