// The body of GET /metrics (docs/server.md, "Metrics"): the process's counters
// (server_metrics.h), the device connections open now, and what the store holds
// (store_metrics.h): read on the reader pool at most once a second, however often scrapes
// come, so that scraping cannot load the store.
//
// Thread safety: render() from any thread; `done` runs on a reader thread or the caller's.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "cached_read.h"
#include "metrics.h"
#include "sync_server/store_metrics.h"

namespace sync_server::net {

class MetricsScrape {
 public:
  using Done = std::function<void(std::string text)>;
  static constexpr std::chrono::milliseconds kFresh{1000};

  // The whole exposition. `max_devices`: devices listed at most (--metrics-max-devices);
  // `connected`: the device connections open now.
  void render(ReaderPool& readers, std::size_t max_devices, std::size_t connected, Done done);

 private:
  CachedRead<std::optional<StoreGauges>> store_{kFresh, std::nullopt};
};

// Appends the families read from the store: the database's size, the devices enrolled, and
// each listed device's acked_seq and last push, with the count of those left out.
// `gauges` nullopt (the store could not be read): only safer_sync_store_up 0.
void render_store_gauges(metrics::Exposition& out, const std::optional<StoreGauges>& gauges);

}  // namespace sync_server::net
