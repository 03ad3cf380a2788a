#include "background_sync.h"

#include <cmath>
#include <random>

#include "safer/time.h"

namespace field_client::ui {

using Clock = std::chrono::steady_clock;

BackgroundSync::BackgroundSync(std::string store_path, BackgroundSyncSettings settings, std::optional<StoreKey> key,
                               std::function<void()> on_wipe_order)
    : store_path_(std::move(store_path)), settings_(settings), key_(std::move(key)), on_wipe_order_(std::move(on_wipe_order)) {
  due_ = Clock::now();  // sync once at start
  thread_ = std::thread([this] { run(); });
}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundSync::trigger(bool on_demand) {
  {
    std::lock_guard lock(mutex_);
    const auto when = Clock::now() + (on_demand ? Clock::duration::zero() : settings_.settle);
    if (on_demand) on_demand_ = true;
    if (!due_ || when < *due_) due_ = when;
  }
  wake_.notify_all();
}

BackgroundState BackgroundSync::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void BackgroundSync::run() {
  std::mt19937 random(std::random_device{}());
  int failures = 0;
  std::unique_ptr<Store> store;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (stopping_) return;
        const bool may_run = !state_.wipe_ordered && (!state_.stopped || on_demand_);
        if (may_run && due_ && Clock::now() >= *due_) break;
        if (may_run && due_) {
          wake_.wait_until(lock, *due_);
        } else {
          wake_.wait(lock);
        }
      }
      due_.reset();
      on_demand_ = false;
      state_.syncing = true;
    }

    if (!store) {
      auto opened = Store::open(store_path_, StoreOptions{{}, key_, {}});
      if (opened) store = std::move(*opened);
    }
    Result<SyncReport> report = Error{"storage", "the tablet's store cannot be opened", ""};
    if (store) {
      SyncOptions options;
      options.on_progress = [this](const SyncProgress& progress) {
        std::lock_guard lock(mutex_);
        state_.progress = progress;
      };
      report = sync_once(*store, options);
    }
    if (!report && report.error().code == "wipe") {
      store.reset();  // the owner erases the files: nothing of this thread may hold them
      {
        std::lock_guard lock(mutex_);
        state_.syncing = false;
        state_.progress.reset();
        state_.wipe_ordered = true;
        state_.stopped = true;
        state_.last_error = report.error().message;
      }
      if (on_wipe_order_) on_wipe_order_();
      continue;
    }

    std::lock_guard lock(mutex_);
    state_.syncing = false;
    state_.progress.reset();
    state_.last_attempt_at = safer::now_unix_millis();
    Clock::duration next = settings_.interval;
    if (report) {
      failures = 0;
      state_.online = true;
      state_.last_error.clear();
      state_.stopped = false;
    } else {
      const auto& error = report.error();
      // Offline when the server could not be reached; unknown when the device has no server yet.
      state_.online = error.code == "network" || error.code == "unavailable" ? std::optional(false)
                      : error.code == "not_enrolled"                        ? std::nullopt
                                                                            : std::optional(true);
      state_.last_error = error.message;
      if (error.code == "not_enrolled") {
        // Enrolment may come from another program at any time: look again at the interval.
      } else if (!is_retryable(error)) {
        state_.stopped = true;  // a person must act: no retry until a sync on demand
        continue;
      } else {
        ++failures;
        const double ceiling =
            std::min(settings_.max_backoff_seconds, settings_.retry_base_seconds * std::pow(2.0, failures - 1));
        next = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(std::uniform_real_distribution<double>(0.0, ceiling)(random)));
      }
    }
    const auto when = Clock::now() + next;
    if (!due_ || when < *due_) due_ = when;
  }
}

}  // namespace field_client::ui
