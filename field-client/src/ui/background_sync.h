// The tablet app's sync: a thread with its own connection to the store that syncs soon after
// each change (trigger()), at least every `interval` while the app runs, and — when the server
// cannot be reached — again after an exponential backoff with full jitter. A 401 or a fatal
// error stops the automatic retries until the next trigger(true) (a sync on demand). It runs
// only while the app holds the store open (an encrypted store: after the PIN), with the key.
// A coordinator's wipe order (error "wipe") closes its connection to the store, stops it for
// good, and calls `on_wipe_order` (from its thread) so that the owner erases the store.
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "field_client/store_key.h"
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
  bool wipe_ordered = false;   // the server said a coordinator ordered this device wiped
  std::optional<SyncProgress> progress;  // while a sync runs: where it stands
};

class BackgroundSync {
 public:
  BackgroundSync(std::string store_path, BackgroundSyncSettings settings, std::optional<StoreKey> key = std::nullopt,
                 std::function<void()> on_wipe_order = {});
  ~BackgroundSync();  // stops and joins

  // Syncs soon: after `settings.settle` (a burst of changes becomes one sync), or at once
  // when `on_demand` (which also resumes after a 401 or fatal error).
  void trigger(bool on_demand = false);

  BackgroundState state() const;

 private:
  void run();

  const std::string store_path_;
  const BackgroundSyncSettings settings_;
  const std::optional<StoreKey> key_;
  const std::function<void()> on_wipe_order_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  BackgroundState state_;                                              // guarded by mutex_
  std::optional<std::chrono::steady_clock::time_point> due_;      // guarded by mutex_
  bool on_demand_ = false;                                         // guarded by mutex_
  bool stopping_ = false;                                          // guarded by mutex_
  std::thread thread_;
};

}  // namespace field_client::ui
