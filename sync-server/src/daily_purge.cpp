#include "daily_purge.h"

#include "net/log.h"
#include "net/server_metrics.h"
#include "safer/time.h"
#include "sync_server/retention.h"
#include "sync_server/server_store.h"

namespace sync_server {

DailyPurge::DailyPurge(std::string db_location, std::chrono::milliseconds first_delay,
                       std::chrono::milliseconds interval)
    : db_location_(std::move(db_location)), first_delay_(first_delay), interval_(interval), thread_([this] { loop(); }) {}

DailyPurge::~DailyPurge() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DailyPurge::loop() {
  auto next = std::chrono::steady_clock::now() + first_delay_;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    run_once();
    next = std::chrono::steady_clock::now() + interval_;
  }
}

void DailyPurge::run_once() {
  // A store of its own each run: nothing is held between runs a day apart.
  auto store = ServerStore::open(db_location_);
  const auto now_seconds = [] { return static_cast<double>(safer::now_unix_millis()) / 1000.0; };
  if (!store) {
    net::server_metrics().record_retention_run(nullptr, now_seconds());
    log::line("retention_purge_failed", "code=" + store.error().code);
    return;
  }
  const auto counts = Retention(**store).run(false, Actor{"sync-server", "serve", "local"});
  net::server_metrics().record_retention_run(counts ? &*counts : nullptr, now_seconds());
  if (!counts) {
    log::line("retention_purge_failed", "code=" + counts.error().code);
    return;
  }
  log::line("retention_purge", counts->to_string());
}

}  // namespace sync_server
