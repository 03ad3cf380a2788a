#include "sync_server/store_metrics.h"

#include <filesystem>

#include "store_impl.h"

namespace sync_server {

std::int64_t StoreMetrics::database_bytes() {
  auto& db = store_.impl_->db;
  if (db.postgresql()) {
    auto size = db.cached("SELECT pg_database_size(current_database())");
    return size->step() ? size->column_int(0) : 0;
  }
  const auto pragma = [&db](const char* sql) {
    auto value = db.cached(sql);
    return value->step() ? value->column_int(0) : 0;
  };
  std::int64_t bytes = pragma("SELECT page_count FROM pragma_page_count") * pragma("SELECT page_size FROM pragma_page_size");
  // The main database's file, whose WAL sits beside it ("" for an in-memory one).
  std::string file;
  {
    auto list = db.cached("SELECT file FROM pragma_database_list WHERE name = 'main'");
    if (list->step()) file = list->column_text(0);
  }
  std::error_code ignored;
  if (const auto wal = file.empty() ? 0 : std::filesystem::file_size(file + "-wal", ignored); !ignored) {
    bytes += static_cast<std::int64_t>(wal);
  }
  return bytes;
}

Result<StoreGauges> StoreMetrics::read(std::size_t max_devices) {
  auto& db = store_.impl_->db;
  try {
    StoreGauges gauges;
    gauges.database_bytes = database_bytes();
    {
      auto count = db.cached("SELECT count(*) FROM devices WHERE revoked = 0");
      if (count->step()) gauges.devices_enrolled = count->column_int(0);
    }
    auto devices = db.cached(
        "SELECT device_id, acked_seq, last_sync_at FROM devices WHERE revoked = 0"
        " ORDER BY coalesce(last_sync_at, -1), device_id LIMIT ?");
    devices->bind(1, static_cast<std::int64_t>(max_devices));
    while (devices->step()) {
      DeviceProgress device{devices->column_text(0), devices->column_int(1), std::nullopt};
      if (!devices->column_is_null(2)) device.last_sync_ms = devices->column_int(2);
      gauges.devices.push_back(std::move(device));
    }
    return gauges;
  } catch (const std::exception&) {
    return Error{"storage", "the database could not be read for the metrics", ""};
  }
}

}  // namespace sync_server
