#include "metrics_scrape.h"

#include <algorithm>
#include <utility>

#include "server_metrics.h"

namespace sync_server::net {

void render_store_gauges(metrics::Exposition& out, const std::optional<StoreGauges>& gauges) {
  out.gauge("safer_sync_store_up", "1 when the store's gauges below could be read at this scrape, else 0",
            gauges ? 1 : 0);
  if (!gauges) return;
  out.gauge("safer_sync_database_bytes",
            "Size of the database: SQLite pages in use and the WAL file; PostgreSQL pg_database_size",
            static_cast<double>(gauges->database_bytes));
  out.gauge("safer_sync_devices_enrolled", "Devices enrolled and not revoked", static_cast<double>(gauges->devices_enrolled));
  out.gauge("safer_sync_devices_unlisted",
            "Enrolled devices left out of the per-device gauges (over --metrics-max-devices)",
            static_cast<double>(std::max<std::int64_t>(
                0, gauges->devices_enrolled - static_cast<std::int64_t>(gauges->devices.size()))));
  out.family("safer_sync_device_acked_seq", "gauge",
             "The last change seq the server acknowledged from each device (those that pushed least recently first)");
  for (const auto& device : gauges->devices) {
    out.sample("safer_sync_device_acked_seq", {{"device", device.device_id}}, static_cast<double>(device.acked_seq));
  }
  out.family("safer_sync_device_last_sync_timestamp_seconds", "gauge",
             "When the server last applied a push from each device (Unix time); none for a device that never pushed");
  for (const auto& device : gauges->devices) {
    if (!device.last_sync_ms) continue;
    out.sample("safer_sync_device_last_sync_timestamp_seconds", {{"device", device.device_id}},
               static_cast<double>(*device.last_sync_ms) / 1000.0);
  }
}

void MetricsScrape::render(ReaderPool& readers, std::size_t max_devices, std::size_t connected, Done done) {
  store_.get(
      readers,
      [max_devices](ServerStore& store) -> std::optional<StoreGauges> {
        auto gauges = StoreMetrics(store).read(max_devices);
        if (!gauges) return std::nullopt;
        return std::move(*gauges);
      },
      [connected, done = std::move(done)](const std::optional<StoreGauges>& gauges) {
        metrics::Exposition out;
        out.gauge("safer_sync_connected_devices", "Devices connected now (authenticated WebSocket sessions)",
                  static_cast<double>(connected));
        server_metrics().render(out);
        render_store_gauges(out, gauges);
        done(out.take());
      });
}

}  // namespace sync_server::net
