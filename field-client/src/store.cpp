#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "safer/json_object.h"
#include "safer/text.h"
#include "safer/validation.h"
#include "store_impl.h"

namespace field_client {

namespace {

// The store's schema, one migration per version. Never edit a released migration: add one.
constexpr sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The newest version of every record the device holds; deletes stay as tombstones.
CREATE TABLE records (
  entity       TEXT NOT NULL CHECK (entity IN ('household', 'visit', 'commute_session')),
  id           TEXT NOT NULL,
  hlc          TEXT NOT NULL,
  device_id    TEXT NOT NULL,              -- the device that wrote this version
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  data         TEXT CHECK ((deleted = 1) = (data IS NULL)),  -- JSON of the record
  created_here INTEGER NOT NULL DEFAULT 0, -- 1 when this device created the record
  PRIMARY KEY (entity, id)
) WITHOUT ROWID;

-- Every local change, numbered by the device's seq. Acked entries may be pruned;
-- pending and rejected ones never are.
CREATE TABLE outbox (
  seq            INTEGER PRIMARY KEY CHECK (seq > 0),
  entity         TEXT NOT NULL,
  op             TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  record_id      TEXT NOT NULL,
  hlc            TEXT NOT NULL,
  data           TEXT CHECK ((op = 'upsert') = (data IS NOT NULL)),
  state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'rejected')),
  reject_code    TEXT,
  reject_message TEXT,
  reject_field   TEXT,
  created_at     INTEGER NOT NULL
);
CREATE INDEX outbox_by_record ON outbox (entity, record_id, seq);
CREATE INDEX outbox_by_state ON outbox (state, seq);

CREATE TRIGGER outbox_keeps_unsynced BEFORE DELETE ON outbox
WHEN OLD.state <> 'acked'
BEGIN
  SELECT RAISE(ABORT, 'an outbox entry that is not yet synced cannot be deleted');
END;

CREATE TRIGGER records_keep_unsynced BEFORE DELETE ON records
WHEN EXISTS (SELECT 1 FROM outbox o
             WHERE o.entity = OLD.entity AND o.record_id = OLD.id AND o.state = 'pending')
BEGIN
  SELECT RAISE(ABORT, 'a record with an unsynced change cannot be deleted');
END;
)sql"},
    {2, R"sql(
-- The full pull in which the device last saw each record from the server (see
-- Store::begin_full_pull): records the fresh pull no longer holds are dropped after it.
ALTER TABLE records ADD COLUMN pulled_gen INTEGER NOT NULL DEFAULT 0;
)sql"},
    {3, R"sql(
-- The tablet app lists each household with its visits.
CREATE INDEX visits_by_household ON records (json_extract(data, '$.household_id'))
  WHERE entity = 'visit' AND deleted = 0;
)sql"},
    {4, R"sql(
-- SQLite's planner would not use migration 3's expression index (it scanned every visit for
-- each household: minutes for a borough's register). Visits get real columns instead, kept by
-- every write (Impl::visit_columns).
DROP INDEX visits_by_household;
ALTER TABLE records ADD COLUMN household_id TEXT;
ALTER TABLE records ADD COLUMN visited_at TEXT;  -- RFC 3339 UTC with milliseconds: sorts as time
ALTER TABLE records ADD COLUMN status TEXT;
ALTER TABLE records ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
UPDATE records SET household_id = json_extract(data, '$.household_id'), visited_at = json_extract(data, '$.visited_at'),
                   status = json_extract(data, '$.status'),
                   follow_up = coalesce(json_extract(data, '$.follow_up_required'), 0)
 WHERE entity = 'visit' AND deleted = 0;
CREATE INDEX visits_by_household ON records (household_id, visited_at) WHERE entity = 'visit' AND deleted = 0;
)sql"},
    {5, R"sql(
-- Acked outbox entries keep no record data (seq, id and hlc only): the server holds it. The
-- CHECK on outbox.data allowed that for deletes only, so the table is rebuilt (SQLite cannot
-- alter a CHECK); its indexes and triggers (records_keep_unsynced reads it) are made again.
DROP TRIGGER records_keep_unsynced;
CREATE TABLE outbox_new (
  seq            INTEGER PRIMARY KEY CHECK (seq > 0),
  entity         TEXT NOT NULL,
  op             TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  record_id      TEXT NOT NULL,
  hlc            TEXT NOT NULL,
  data           TEXT CHECK (CASE WHEN op = 'delete' THEN data IS NULL
                                  ELSE data IS NOT NULL OR state = 'acked' END),
  state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'rejected')),
  reject_code    TEXT,
  reject_message TEXT,
  reject_field   TEXT,
  created_at     INTEGER NOT NULL
);
INSERT INTO outbox_new SELECT seq, entity, op, record_id, hlc, CASE WHEN state = 'acked' THEN NULL ELSE data END,
                              state, reject_code, reject_message, reject_field, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_record ON outbox (entity, record_id, seq);
CREATE INDEX outbox_by_state ON outbox (state, seq);
CREATE TRIGGER outbox_keeps_unsynced BEFORE DELETE ON outbox
WHEN OLD.state <> 'acked'
BEGIN
  SELECT RAISE(ABORT, 'an outbox entry that is not yet synced cannot be deleted');
END;
CREATE TRIGGER records_keep_unsynced BEFORE DELETE ON records
WHEN EXISTS (SELECT 1 FROM outbox o
             WHERE o.entity = OLD.entity AND o.record_id = OLD.id AND o.state = 'pending')
BEGIN
  SELECT RAISE(ABORT, 'a record with an unsynced change cannot be deleted');
END;
-- The app PIN of earlier versions (meta 'pin', a PBKDF2 hash, and 'pin_attempts') stays: the
-- store opens only with that PIN, which then encrypts it and is removed (legacy_pin.cpp).
-- (Until 2026-12-03 this migration deleted them; no release carried that: docs/field-client.md.)
)sql"},
    {6, R"sql(
-- A household that left the user's scope (a pulled eviction, protocol.md §4.6) and its visits
-- go at once, except those with a change still to sync: they are marked here and go when
-- that change is acked or rejected (store_sync.cpp).
ALTER TABLE records ADD COLUMN evicted INTEGER NOT NULL DEFAULT 0;
-- Every ack and eviction looks for the few marked records: an index of those only, so that
-- it is not a scan of every visit on the tablet.
CREATE INDEX records_evicted ON records (evicted, entity) WHERE evicted = 1;
)sql"},
    {7, R"sql(
-- Refused changes keep their data only while the officer may still need it (store_rejections.cpp):
-- a rejected entry drops it once a later change of its record is acked, once its record left
-- the user's scope, or when the officer discards it (state 'discarded'). The CHECK on data
-- allowed NULL only for acked upserts, so the table is rebuilt as in migration 5.
DROP TRIGGER records_keep_unsynced;
CREATE TABLE outbox_new (
  seq            INTEGER PRIMARY KEY CHECK (seq > 0),
  entity         TEXT NOT NULL,
  op             TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  record_id      TEXT NOT NULL,
  hlc            TEXT NOT NULL,
  data           TEXT CHECK (CASE WHEN op = 'delete' THEN data IS NULL
                                  ELSE data IS NOT NULL OR state <> 'pending' END),
  state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'rejected', 'discarded')),
  reject_code    TEXT,
  reject_message TEXT,
  reject_field   TEXT,
  created_at     INTEGER NOT NULL
);
INSERT INTO outbox_new SELECT seq, entity, op, record_id, hlc, data, state, reject_code, reject_message, reject_field,
                              created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_record ON outbox (entity, record_id, seq);
CREATE INDEX outbox_by_state ON outbox (state, seq);
CREATE TRIGGER outbox_keeps_unsynced BEFORE DELETE ON outbox
WHEN OLD.state <> 'acked'
BEGIN
  SELECT RAISE(ABORT, 'an outbox entry that is not yet synced cannot be deleted');
END;
CREATE TRIGGER records_keep_unsynced BEFORE DELETE ON records
WHEN EXISTS (SELECT 1 FROM outbox o
             WHERE o.entity = OLD.entity AND o.record_id = OLD.id AND o.state = 'pending')
BEGIN
  SELECT RAISE(ABORT, 'a record with an unsynced change cannot be deleted');
END;
-- What the rules would have dropped before this version: refused entries superseded by an
-- acked change of their record. (Evicted records kept by a refusal go at the next ack or pull.)
UPDATE outbox SET data = NULL WHERE state = 'rejected' AND data IS NOT NULL AND EXISTS (
  SELECT 1 FROM outbox a WHERE a.entity = outbox.entity AND a.record_id = outbox.record_id
   AND a.state = 'acked' AND a.seq > outbox.seq);
)sql"},
};

}  // namespace

Status create_store_at_version(const std::string& path, int version) {
  if (version < 1 || version > static_cast<int>(std::size(kMigrations))) {
    return Error{"invalid", "no store schema version " + std::to_string(version), "version"};
  }
  try {
    sqlite::Database db(path);
    return sqlite::migrate(db, kMigrations, static_cast<std::size_t>(version));
  } catch (const sqlite::Failure& failure) {
    return sqlite::to_error(failure);
  }
}

namespace {

bool is_file_store(const std::string& path) { return !path.empty() && path != ":memory:" && !path.starts_with("file:"); }

// Switches the journal mode and checks that it took: leaving WAL needs the only connection.
void set_journal_mode(sqlite::Database& db, const char* mode) {
  sqlite::Statement statement(db.handle(), std::string("PRAGMA journal_mode = ") + mode);
  if (!statement.step() || statement.column_text(0) != mode) {
    throw sqlite::Failure(5 /* SQLITE_BUSY */, 0, std::string("journal_mode ") + mode + ": the store is open elsewhere");
  }
}

Error invalid(const FieldErrors& errors) { return Error{"invalid", safer::join_messages(errors), errors.front().field}; }


}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

namespace {
bool key_file_exists(const std::string& path, KeySlot slot) {
  return is_file_store(path) && ::access(key_file_path(path, slot).c_str(), F_OK) == 0;
}
}  // namespace

bool Store::is_encrypted(const std::string& path) {
  return key_file_exists(path, KeySlot::current) || key_file_exists(path, KeySlot::next);
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, StoreOptions options) {
  return open_store(path, std::move(options), false);
}

Result<std::unique_ptr<Store>> Store::open_store(const std::string& path, StoreOptions options, bool legacy_pin_given) {
  if (key_file_exists(path, KeySlot::current) && !options.key) {
    return Error{"locked", "the store at " + path + " is encrypted: give its PIN to open it", "pin"};
  }
  if (!is_encrypted(path) && options.key) {
    return Error{"invalid", "the store at " + path + " has no PIN (it is not encrypted): open it without one", "pin"};
  }
  sqlite::make_private_parent_directories(path);
  try {
    auto impl = std::make_unique<Impl>(path);
    if (options.key) {
      impl->db.key(options.key->bytes());
      if (!impl->db.readable()) return Error{"wrong_pin", "that PIN does not open the store at " + path, "pin"};
      impl->encrypted = true;
    } else if (key_file_exists(path, KeySlot::next)) {
      // Only the key file of a PIN change cut short: the store may still be plain.
      if (!impl->db.readable()) return Error{"locked", "the store at " + path + " is encrypted: give its PIN to open it", "pin"};
      ::unlink(key_file_path(path, KeySlot::next).c_str());
    }
    impl->wall_clock = options.wall_clock ? std::move(options.wall_clock) : safer::now_unix_millis;
    impl->end_of_local_day = options.end_of_local_day ? std::move(options.end_of_local_day) : end_of_device_day;
    // temp_store: sorts and temporary tables never reach a file, where they would be plaintext.
    impl->db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                  " PRAGMA temp_store = MEMORY;");
    impl->db.create_text_function("fold_case", safer::fold_case);
    if (auto migrated = sqlite::migrate(impl->db, kMigrations, std::size(kMigrations)); !migrated) {
      return migrated.error();
    }
    sqlite::Transaction transaction(impl->db);
    if (impl->meta(kLegacyPinKey)) {
      // The app PIN of an earlier version (legacy_pin.cpp). Left in an encrypted store only by
      // an upgrade cut short after the store was encrypted with that PIN: it has done its work.
      if (impl->encrypted) {
        impl->db.cached("DELETE FROM meta WHERE key IN ('pin', 'pin_attempts')")->run();
      } else if (!legacy_pin_given) {
        return Error{"locked", "the store at " + path + " is locked by the app PIN of an earlier version: give that "
                               "PIN to open it (the store is then encrypted with it)", "pin"};
      }
    }
    if (!impl->meta("device_id")) impl->set_meta("device_id", safer::new_uuid_v7());
    transaction.commit();
    return std::unique_ptr<Store>(new Store(std::move(impl)));
  } catch (const sqlite::Failure& failure) {
    Error error = sqlite::to_error(failure);
    error.message = "cannot open the store at " + path + ": " + error.message;
    return error;
  }
}

std::string Store::exposure_warning() const { return sqlite::exposure_warning(impl_->path); }

const std::string& Store::path() const { return impl_->path; }

bool Store::encrypted() const { return impl_->encrypted; }

Status Store::wipe_files(const std::string& path) {
  if (!is_file_store(path)) return {};
  std::string failed;
  for (const std::string& file : {path, path + "-wal", path + "-shm", path + "-journal", key_file_path(path),
                                  key_file_path(path, KeySlot::next), key_file_path(path) + ".tmp",
                                  key_file_path(path, KeySlot::next) + ".tmp"}) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) failed += (failed.empty() ? "" : ", ") + file + " (" + std::strerror(errno) + ")";
  }
  if (!failed.empty()) return Error{"storage", "the store could not be wiped entirely: " + failed + " remain", ""};
  return {};
}

Status Store::wipe(std::unique_ptr<Store> store) {
  const std::string path = store->path();
  store.reset();
  return wipe_files(path);
}

Result<StoreKey> Store::set_pin(const std::string& pin, PinSettings settings) {
  if (auto allowed = check_pin_rules(pin); !allowed) return allowed.error();
  if (!is_file_store(impl_->path)) return Error{"invalid", "a store in memory cannot have a PIN", "pin"};
  auto key_file = new_key_file(settings.max_attempts, settings.kdf_log_n);
  if (!key_file) return key_file.error();
  const auto key = derive_store_key(pin, *key_file);
  if (!key) return key.error();
  if (auto written = write_key_file(impl_->path, *key_file, KeySlot::next); !written) return written.error();
  try {
    // SQLite3MC encrypts a plain database only outside WAL mode (the rollback journal used
    // meanwhile is deleted when the change commits); it re-keys an encrypted one in WAL mode.
    if (impl_->encrypted) {
      impl_->db.rekey(key->bytes());
    } else {
      impl_->db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      set_journal_mode(impl_->db, "delete");
      impl_->db.rekey(key->bytes());
      set_journal_mode(impl_->db, "wal");
    }
  } catch (const sqlite::Failure& failure) {
    try {
      set_journal_mode(impl_->db, "wal");
    } catch (const sqlite::Failure&) {
      // Stays in rollback-journal mode until the next open, which sets WAL again.
    }
    ::unlink(key_file_path(impl_->path, KeySlot::next).c_str());
    Error error = sqlite::to_error(failure);
    if (failure.busy()) error.message = "the PIN was not changed: another program has the store open; close it and try again";
    return error;
  }
  impl_->encrypted = true;
  if (auto promoted = promote_next_key_file(impl_->path); !promoted) return promoted.error();
  return *key;
}

Result<DeviceInfo> Store::device() const {
  return reading("the device's identity", [&] {
    return DeviceInfo{impl_->device_id(), impl_->role(), impl_->meta("user_id")};
  });
}

Result<safer::ReferenceLists> Store::reference_lists() const {
  return reading("the wards, stations and questions", [&] {
    safer::ReferenceLists lists = safer::ReferenceLists::defaults();
    if (auto wards = impl_->meta("wards")) lists.wards = safer::split_lines(*wards);
    if (auto stations = impl_->meta("stations")) lists.stations = safer::split_lines(*stations);
    if (auto questions = impl_->meta("questions")) {
      // Stored from a welcome that decoded: readable. An unreadable one keeps the defaults.
      if (auto stored = safer::questions_from_json(*questions)) lists.questions = std::move(*stored);
    }
    return lists;
  });
}

Result<FieldErrors> Store::validate(RecordData& data) const {
  const auto lists = reference_lists();
  if (!lists) return lists.error();
  // This client always records the lawful basis of a visit's referrals and the dates that
  // drive work (protocol.md §5.2).
  FieldErrors errors = safer::check_record(data, *lists, safer::WriterRules::all());
  if (const auto* session = std::get_if<safer::CommuteSession>(&data); session != nullptr && errors.empty()) {
    if (auto problem = impl_->commute_day_problem(*session)) errors.push_back(std::move(*problem));
  }
  if (const auto* visit = std::get_if<safer::Visit>(&data);
      visit != nullptr && safer::is_canonical_uuid(visit->household_id)) {
    const auto household = get(Entity::household, visit->household_id);
    if (!household && household.error().code != "not_found") return household.error();
    if (!household || household->deleted) {
      errors.push_back({"household_id", "household_id does not name a household on this device"});
    }
  }
  return errors;
}

Result<std::string> Store::create(RecordData data, std::optional<std::string> id) {
  const Entity entity = safer::entity_of(data);
  if (id && !safer::is_canonical_uuid(*id)) {
    return Error{"invalid", "id must be a lowercase canonical UUID", "id"};
  }
  return in_transaction(impl_->db, [&]() -> Result<std::string> {
    const auto errors = validate(data);
    if (!errors) return errors.error();
    if (!errors->empty()) return invalid(*errors);
    const std::string record_id = id.value_or(safer::new_uuid_v7());
    if (impl_->find(entity, record_id)) {
      return Error{"exists", "a record with id " + record_id + " already exists", "id"};
    }
    RecordData sent = data;
    if (const auto* household = std::get_if<Household>(&data)) {
      auto to_send = impl_->household_to_send(*household, std::nullopt);
      if (!to_send) return to_send.error();
      sent = std::move(*to_send);
    }
    impl_->write_version(entity, record_id, Op::upsert, data, sent, std::nullopt, true);
    return record_id;
  });
}

Status Store::update(const std::string& id, RecordData data) {
  const Entity entity = safer::entity_of(data);
  return in_transaction(impl_->db, [&]() -> Status {
    const auto existing = impl_->find(entity, id);
    if (!existing || existing->deleted) {
      return Error{"not_found", "there is no " + std::string(safer::to_string(entity)) + " with id " + id, "id"};
    }
    const auto errors = validate(data);
    if (!errors) return errors.error();
    if (!errors->empty()) return invalid(*errors);
    RecordData sent = data;
    if (auto* household = std::get_if<Household>(&data)) {
      auto to_send = impl_->household_to_send(*household, existing);
      if (!to_send) return to_send.error();
      sent = std::move(*to_send);
      // The device keeps the server-owned fields it last heard of.
      const auto* before = std::get_if<Household>(&*existing->data);
      if (!household->target) household->target = before->target;
      if (!household->assigned_to) household->assigned_to = before->assigned_to;
    }
    impl_->write_version(entity, id, Op::upsert, data, sent, existing->hlc, false);
    return {};
  });
}

Status Store::remove(Entity entity, const std::string& id) {
  return in_transaction(impl_->db, [&]() -> Status {
    const auto existing = impl_->find(entity, id);
    if (!existing || existing->deleted) {
      return Error{"not_found", "there is no " + std::string(safer::to_string(entity)) + " with id " + id, "id"};
    }
    if (entity == Entity::household && !impl_->is_coordinator()) {
      return forbidden("", "only a coordinator may delete a household");
    }
    impl_->write_version(entity, id, Op::remove, std::nullopt, std::nullopt, existing->hlc, false);
    return {};
  });
}

Result<StoredRecord> Store::get(Entity entity, const std::string& id) const {
  return reading("a record", [&]() -> Result<StoredRecord> {
    auto record = impl_->find(entity, id);
    if (!record) return no_such_record(entity, id);
    return std::move(*record);
  });
}

Result<std::vector<StoredRecord>> Store::list(Entity entity, bool include_deleted) const {
  return reading(std::string("the ") + std::string(safer::to_string(entity)) + " records", [&] {
    auto statement = impl_->db.cached(kListRecords);
    statement->bind(1, safer::to_string(entity)).bind(2, include_deleted ? 1 : 0);
    std::vector<StoredRecord> records;
    while (statement->step()) records.push_back(impl_->read_record(*statement));
    return records;
  });
}

Result<std::vector<OutboxEntry>> Store::outbox(std::vector<OutboxState> states) const {
  return reading("the changes waiting to sync", [&] { return impl_->outbox(states); });
}

namespace {

// The columns every outbox read selects, in read_outbox_row()'s order.
#define OUTBOX_COLUMNS \
  "seq, entity, op, record_id, hlc, data, state, created_at, reject_code, reject_message, reject_field"

OutboxEntry read_outbox_row(const sqlite::Statement& row, OutboxData form = OutboxData::decoded) {
  OutboxEntry entry;
  entry.seq = row.column_int(0);
  entry.change.entity = *safer::enum_from_string<Entity>(row.column_text(1));
  entry.change.op = *safer::enum_from_string<Op>(row.column_text(2));
  entry.change.id = row.column_text(3);
  entry.change.hlc = Hlc::parse(row.column_text(4)).value_or(Hlc{});
  if (!row.column_is_null(5)) {
    std::string text = row.column_text(5);
    if (form == OutboxData::stored && safer::is_json_object_text(text)) {
      entry.stored_data = std::move(text);
    } else if (RecordData data; safer::from_json(text, entry.change.entity, data).empty()) {
      entry.change.data = std::move(data);
    }
  }
  entry.state = outbox_state_from(row.column_text(6));
  entry.created_at = row.column_int(7);
  entry.reject_code = row.column_text(8);
  entry.reject_message = row.column_text(9);
  entry.reject_field = row.column_text(10);
  return entry;
}

}  // namespace

std::vector<OutboxEntry> Store::Impl::outbox(const std::vector<OutboxState>& states) const {
  int mask = 0;
  for (auto state : states) mask |= 1 << static_cast<int>(state);
  auto statement = db.cached(
      "SELECT " OUTBOX_COLUMNS " FROM outbox"
      " WHERE (?1 >> (CASE state WHEN 'pending' THEN 0 WHEN 'acked' THEN 1 WHEN 'rejected' THEN 2 ELSE 3 END)) & 1"
      " ORDER BY seq");
  statement->bind(1, mask);
  std::vector<OutboxEntry> entries;
  while (statement->step()) entries.push_back(read_outbox_row(*statement));
  return entries;
}

std::vector<OutboxEntry> Store::Impl::pending(std::size_t limit, OutboxData data) const {
  // outbox_by_state (state, seq): the first `limit` pending entries, not all of them.
  auto statement = db.cached("SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?");
  statement->bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<OutboxEntry> entries;
  while (statement->step()) entries.push_back(read_outbox_row(*statement, data));
  return entries;
}

#undef OUTBOX_COLUMNS

Result<StoreSummary> Store::summary() const {
  return reading("the store's summary", [&] { return impl_->summary(); });
}

StoreSummary Store::Impl::summary() const {
  StoreSummary summary;
  summary.device_id = device_id();
  summary.last_seq = std::stoll(meta("last_seq").value_or("0"));
  auto states = db.cached("SELECT state, count(*) FROM outbox GROUP BY state");
  while (states->step()) {
    const auto state = outbox_state_from(states->column_text(0));
    if (state == OutboxState::pending) summary.pending = states->column_int(1);
    if (state == OutboxState::rejected) summary.rejected = states->column_int(1);
  }
  auto acked = db.cached("SELECT coalesce(max(seq), 0) FROM outbox WHERE state <> 'pending'");
  if (acked->step()) summary.last_acked_seq = acked->column_int(0);
  if (auto at = meta("last_sync_at")) summary.last_sync_at = std::stoll(*at);
  if (auto offset = meta("clock_offset_ms")) summary.clock_offset_ms = std::stoll(*offset);
  auto kinds = db.cached("SELECT entity, count(*) FROM records WHERE deleted = 0 GROUP BY entity");
  while (kinds->step()) {
    const auto entity = safer::enum_from_string<Entity>(kinds->column_text(0));
    if (entity == Entity::household) summary.households = kinds->column_int(1);
    if (entity == Entity::visit) summary.visits = kinds->column_int(1);
    if (entity == Entity::commute_session) summary.commute_sessions = kinds->column_int(1);
  }
  return summary;
}

std::string_view to_string(SyncState state) {
  switch (state) {
    case SyncState::pending: return "pending";
    case SyncState::rejected: return "rejected";
    case SyncState::synced: return "synced";
  }
  return "synced";
}

std::string_view to_string(OutboxState state) {
  switch (state) {
    case OutboxState::pending: return "pending";
    case OutboxState::acked: return "acked";
    case OutboxState::rejected: return "rejected";
    case OutboxState::discarded: return "discarded";
  }
  return "pending";
}

}  // namespace field_client
