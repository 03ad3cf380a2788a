// A value read from the store on the reader pool and kept for a short while, for endpoints
// that anyone (a load balancer, a scraper) may call at any rate: /readyz and /metrics. The
// store is asked at most once per `fresh`; a request in between gets the last value, and
// while a read is running the requests wait for it (at most kMaxWaiting; beyond, the last
// value).
//
// Thread safety: get() from any thread; `done` runs on a reader thread or the caller's.
// REQUIRES: the CachedRead outlives the pool's jobs (declare it before the pool).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "reader_pool.h"

namespace sync_server::net {

template <class T>
class CachedRead {
 public:
  using Clock = std::chrono::steady_clock;
  using Read = std::function<T(ServerStore&)>;  // must not throw
  using Done = std::function<void(const T&)>;
  static constexpr std::size_t kMaxWaiting = 64;

  CachedRead(std::chrono::milliseconds fresh, T initial) : fresh_(fresh), value_(std::move(initial)) {}

  void get(ReaderPool& readers, Read read, Done done) {
    std::unique_lock lock(mutex_);
    if (reading_) {
      if (waiting_.size() < kMaxWaiting) {
        waiting_.push_back(std::move(done));
        return;
      }
    } else if (!read_at_ || Clock::now() - *read_at_ >= fresh_) {
      reading_ = true;
      waiting_.push_back(std::move(done));
      lock.unlock();
      readers.post([this, read = std::move(read)](ServerStore& store) { finish(read(store)); });
      return;
    }
    const T value = value_;
    lock.unlock();
    done(value);
  }

 private:
  void finish(T value) {
    std::vector<Done> waiting;
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      read_at_ = Clock::now();
      value_ = value;
      waiting.swap(waiting_);
    }
    for (auto& done : waiting) done(value);
  }

  const std::chrono::milliseconds fresh_;
  std::mutex mutex_;
  bool reading_ = false;                     // guarded by mutex_
  std::optional<Clock::time_point> read_at_;  // guarded by mutex_
  T value_;                                  // guarded by mutex_
  std::vector<Done> waiting_;                // guarded by mutex_
};

}  // namespace sync_server::net
