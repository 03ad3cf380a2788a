// GET /readyz (docs/server.md, "Readiness"): whether this server can serve — not shutting down, its
// store answers a read and its schema is the one this program works with (ServerStore::ready).
// /healthz only says that the process answers.
//
// Unauthenticated, so cheap whatever the rate: the store is asked at most once a second, on
// the reader pool; a request in between gets the last answer, and while a check is running
// the requests wait for it (at most kMaxWaiting; beyond, the last answer).
//
// Thread safety: check() from any thread; `done` runs on a reader thread or the caller's.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reader_pool.h"

namespace sync_server::net {

class Readiness {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(bool ready, const std::string& reason)>;
  static constexpr std::chrono::milliseconds kFresh{1000};
  static constexpr std::size_t kMaxWaiting = 64;

  void check(ReaderPool& readers, Done done);

 private:
  void finish(bool ready, std::string reason);

  std::mutex mutex_;
  bool checking_ = false;                          // guarded by mutex_
  std::optional<Clock::time_point> checked_at_;    // guarded by mutex_
  bool ready_ = false;                             // guarded by mutex_
  std::string reason_ = "not checked yet";         // guarded by mutex_
  std::vector<Done> waiting_;                      // guarded by mutex_
};

}  // namespace sync_server::net
