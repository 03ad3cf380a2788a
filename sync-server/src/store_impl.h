// Internal to the server store: its state, shared by server_store.cpp (schema, devices),
// apply.cpp (push), pull.cpp and stats.cpp.
#pragma once

#include <optional>
#include <string>

#include "safer/hlc.h"
#include "safer/sqlite.h"
#include "sync_server/server_store.h"

namespace sync_server {

namespace sqlite = safer::sqlite;

// One row of `records`: the winning version of one record, with the columns that scope,
// ownership and the statistics need.
struct StoredRow {
  safer::Hlc hlc;
  std::string device_id;  // wrote this version
  std::string owner;      // the user whose device created the record (first version)
  bool deleted = false;
  std::string data;       // JSON of the record; empty when deleted
  std::string household_id;                // visits
  std::optional<std::string> assigned_to;  // households
  bool target = false;                     // households
  std::string ward;  // households: their ward; visits: the ward they are counted under
};

struct ServerStore::Impl {
  explicit Impl(const std::string& path) : db(path) {}

  sqlite::Database db;
  StoreOptions options;
  std::string epoch;  // Constant after open(): names this store in cursors.

  // State of the open write group (begin_group .. commit_group).
  std::optional<sqlite::Transaction> group;
  std::int64_t last_version = 0;  // the greatest records.version given out
  safer::Hlc server_hlc;          // the greatest HLC applied, for the server's own writes

  std::optional<std::string> meta(const char* key);
  void set_meta(const char* key, const std::string& value);

  std::optional<StoredRow> find_row(safer::Entity entity, const std::string& id);

  // Gives rows written before records.local_day existed their local day (see migration 2).
  void fill_local_days();

  // apply.cpp
  PushOutcome apply_batch(const DeviceIdentity& device, const safer::ReceivedPush& push);
  // Whose clock stamped a change: a device's is checked for skew (contract §3); the
  // server's own (the register import) follows the greatest HLC applied, which may itself be
  // up to the allowed skew ahead, and is not.
  enum class Stamp { device, server };
  std::optional<safer::Rejection> apply_change(const DeviceIdentity& device, const safer::Change& change,
                                               bool& applied, Stamp stamp = Stamp::device);

  // stats.cpp: statistics contributions of one version, added (sign +1) or taken away (-1).
  void count_visit(const safer::Visit& visit, const std::string& ward, int sign);
  void count_session(const safer::CommuteSession& session, int sign);
  void count_target(const std::string& household_id, int sign);
  void count_household_year(const std::string& household_id, int year, int sign);
};

}  // namespace sync_server
