// The tablet app's sync: a thread with its own connection to the store that syncs soon after
// each change (trigger()), at least every `interval` while the app runs, and — when the server
// cannot be reached — again after an exponential backoff with full jitter. A 401 or a fatal
// error stops the automatic retries until the next trigger(true) (a sync on demand).
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "field_client/sync.h"

namespace field_client::ui {

struct BackgroundSyncSettings {
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds settle{500};  // after a change, wait this long for more
  double retry_base_seconds = 1;
  double max_backoff_seconds = 60;
};

struct BackgroundState {
  std::optional<bool> online;  // the last attempt reached the server; nullopt before one
  bool syncing = false;
  std::optional<safer::UnixMillis> last_attempt_at;
  std::string last_error;      // empty after a success
  bool stopped = false;        // a 401 or fatal error: waiting for a sync on demand
};

class BackgroundSync {
 public:
  BackgroundSync(std::string store_path, BackgroundSyncSettings settings);
  ~BackgroundSync();  // stops and joins

  // Syncs soon: after `settings.settle` (a burst of changes becomes one sync), or at once
  // when `on_demand` (which also resumes after a 401 or fatal error).
  void trigger(bool on_demand = false);

  BackgroundState state() const;

 private:
  void run();

  const std::string store_path_;
  const BackgroundSyncSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  BackgroundState state_;                                              // guarded by mutex_
  std::optional<std::chrono::steady_clock::time_point> due_;      // guarded by mutex_
  bool on_demand_ = false;                                         // guarded by mutex_
  bool stopping_ = false;                                          // guarded by mutex_
  std::thread thread_;
};

}  // namespace field_client::ui
