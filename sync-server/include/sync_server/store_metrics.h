// What GET /metrics reads from the store at a scrape (docs/server.md, "Metrics"): the size of
// the database and each enrolled device's progress, for at most a given number of devices.
// Device ids only: never a user id (which may be a name).
//
// Thread safety: as the ServerStore it reads (a reader pool thread's own).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "safer/result.h"
#include "sync_server/server_store.h"

namespace sync_server {

struct DeviceProgress {
  std::string device_id;
  std::int64_t acked_seq = 0;
  std::optional<std::int64_t> last_sync_ms;  // the last push applied from it (devices.last_sync_at); nullopt: none yet
};

struct StoreGauges {
  std::int64_t database_bytes = 0;  // SQLite: pages in use * page size + the WAL file; PostgreSQL: pg_database_size
  std::int64_t devices_enrolled = 0;  // not revoked
  // At most the number asked for, those that pushed least recently first (never, then oldest),
  // by device id among equals.
  std::vector<DeviceProgress> devices;
};

class StoreMetrics {
 public:
  explicit StoreMetrics(ServerStore& store) : store_(store) {}

  // Reads the gauges, with at most `max_devices` devices. Error "storage" when the database
  // cannot be read.
  Result<StoreGauges> read(std::size_t max_devices);

 private:
  std::int64_t database_bytes();
  ServerStore& store_;
};

}  // namespace sync_server
