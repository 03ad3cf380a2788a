// Internal to the field client's store: its state and the helpers that store.cpp (records)
// and store_sync.cpp (sync) share.
#pragma once

#include <string_view>
#include <type_traits>

#include "field_client/store.h"
#include "safer/record_json.h"
#include "safer/sqlite.h"
#include "safer/time.h"
#include "safer/uuid.h"

namespace field_client {

namespace sqlite = safer::sqlite;
using safer::Change;
using safer::FieldErrors;
using safer::Hlc;
using safer::Household;
using safer::Op;
using safer::RecordData;
using safer::Role;

namespace detail {

// meta keys of the app PIN of versions before the PIN became the key (legacy_pin.cpp): a
// PBKDF2 hash, and the wrong-PIN count as "FAILURES NOT_BEFORE LOCKED_OUT".
constexpr const char* kLegacyPinKey = "pin";
constexpr const char* kLegacyPinAttemptsKey = "pin_attempts";

// Records with the state of their latest outbox entry (none: pulled, so synced).
#define SELECT_RECORDS                                                                  \
  "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data,"                      \
  " (SELECT o.state FROM outbox o WHERE o.entity = r.entity AND o.record_id = r.id"    \
  "  ORDER BY o.seq DESC LIMIT 1), r.created_here FROM records r "
constexpr const char* kFindRecord = SELECT_RECORDS "WHERE r.entity = ?1 AND r.id = ?2";
constexpr const char* kListRecords =
    SELECT_RECORDS "WHERE r.entity = ?1 AND (?2 OR r.deleted = 0) ORDER BY r.id";
#undef SELECT_RECORDS

inline Error forbidden(std::string field, std::string message) {
  return Error{"forbidden", std::move(message), std::move(field)};
}

// A failed read as an Error: "storage_busy" while another program holds the store, otherwise
// "storage", the message naming what was being read (never a value from the store).
inline Error read_error(const sqlite::Failure& failure, std::string_view what) {
  if (failure.busy()) {
    return Error{"storage_busy", "cannot read " + std::string(what) + ": the store is busy in another program; try again", ""};
  }
  return Error{"storage", "cannot read " + std::string(what) + " from this device's store (" + failure.what() +
                              "); nothing was changed; try again, and if it persists the storage may be failing",
               ""};
}

template <class T>
struct AsResult { using type = Result<T>; };
template <class T>
struct AsResult<Result<T>> { using type = Result<T>; };

// Runs `body`, a read of the store, and returns what it returns (a T or a Result<T>) as a
// Result<T>; a SQLite failure becomes read_error(failure, what). Nothing is thrown.
template <class Body>
auto reading(std::string_view what, Body&& body) -> typename AsResult<std::invoke_result_t<Body&>>::type {
  try {
    return body();
  } catch (const sqlite::Failure& failure) {
    return read_error(failure, what);
  }
}

// Runs `body`, a write, in one transaction (sqlite::Transaction: BEGIN IMMEDIATE, rolled back
// unless committed) and commits only if `body` succeeds. Returns what `body` returns (a Status
// or a Result<T>), or the SQLite failure as an Error; nothing is thrown, and a failure leaves
// nothing half-written.
template <class Body>
auto in_transaction(sqlite::Database& db, Body&& body) -> std::invoke_result_t<Body&> {
  try {
    sqlite::Transaction transaction(db);
    auto result = body();
    if (result) transaction.commit();
    return result;
  } catch (const sqlite::Failure& failure) {
    return sqlite::to_error(failure);
  }
}

inline Error no_such_record(Entity entity, const std::string& id) {
  return Error{"not_found", "there is no " + std::string(safer::to_string(entity)) + " with id " + id, "id"};
}

inline OutboxState outbox_state_from(const std::string& text) {
  if (text == "acked") return OutboxState::acked;
  if (text == "rejected") return OutboxState::rejected;
  if (text == "discarded") return OutboxState::discarded;
  return OutboxState::pending;
}

// The rules for how long a refused change keeps its data (store_rejections.cpp). Each must
// run inside a write transaction.
// Rejected entries whose record has a later acked change drop their data.
void drop_superseded_rejections(sqlite::Database& db);
// Records marked evicted with nothing pending go (visits first, then households none of whose
// visits are left), and their rejected entries drop their data (protocol.md §4.6).
void drop_evicted(sqlite::Database& db);
// A pulled eviction: the household and its visits are marked, and those with nothing pending go.
void evict_household(sqlite::Database& db, const std::string& household_id);
// A record the server erased or deleted (a pulled tombstone): its rejected entries drop their
// data; for a household, its visits are evicted too.
void drop_tombstoned(sqlite::Database& db, const std::string& entity, const std::string& id);
// Whether the record has a change waiting to sync.
bool has_pending(sqlite::Database& db, const std::string& entity, const std::string& id);

}  // namespace detail

using namespace detail;

// store_commute.cpp: the last millisecond of `instant`'s local day in this device's time zone.
std::int64_t end_of_device_day(std::int64_t instant);

struct Store::Impl {
  explicit Impl(const std::string& store_path) : path(store_path), db(store_path) {}

  const std::string path;       // as opened (":memory:" too)
  mutable sqlite::Database db;  // statements are cached even by reads
  bool encrypted = false;       // opened with a key
  std::function<std::int64_t()> wall_clock;
  std::function<std::int64_t(std::int64_t)> end_of_local_day;  // StoreOptions::end_of_local_day
  // store_commute.cpp: the problem with `session`'s times for the local-day rule, or nullopt.
  std::optional<safer::FieldError> commute_day_problem(const safer::CommuteSession& session) const;
  // The device's id, read from the store each time: another program on the same file (an
  // enrolment with --device) may have set it since this Store was opened.
  std::string device_id() const { return meta("device_id").value_or(""); }

  std::optional<std::string> meta(const char* key) const {
    auto statement = db.cached("SELECT value FROM meta WHERE key = ?");
    statement->bind(1, key);
    return statement->step() ? std::optional(statement->column_text(0)) : std::nullopt;
  }

  // The next pull starts from "" and, once finished, drops the server data it did not bring
  // (Store::finish_full_pull). In a transaction (store_sync.cpp).
  void start_full_pull();
  // One pulled change, inside apply_pages()'s transaction (store_sync.cpp).
  void apply_pulled(const safer::PulledChange& pulled, std::int64_t generation);

  void set_meta(const char* key, const std::string& value) {
    db.cached("INSERT INTO meta (key, value) VALUES (?, ?) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        ->bind(1, key)
        .bind(2, value)
        .run();
  }

  std::optional<Role> role() const {
    const auto text = meta("role");
    return text ? safer::enum_from_string<Role>(*text) : std::nullopt;
  }

  bool is_coordinator() const { return role() == Role::coordinator; }

  StoredRecord read_record(const sqlite::Statement& row) const {
    StoredRecord record;
    record.entity = *safer::enum_from_string<Entity>(row.column_text(0));
    record.id = row.column_text(1);
    record.hlc = Hlc::parse(row.column_text(2)).value_or(Hlc{});
    record.device_id = row.column_text(3);
    record.deleted = row.column_int(4) != 0;
    if (!record.deleted) {
      RecordData data;
      if (safer::from_json(row.column_text(5), record.entity, data).empty()) record.data = std::move(data);
    }
    const auto state = row.column_optional_text(6);
    record.state = !state || *state == "acked" || *state == "discarded" ? SyncState::synced
                   : *state == "rejected"      ? SyncState::rejected
                                               : SyncState::pending;
    record.created_here = row.column_int(7) != 0;
    return record;
  }

  // The reads behind Store::outbox() and Store::summary(); they throw sqlite::Failure.
  std::vector<OutboxEntry> outbox(const std::vector<OutboxState>& states) const;
  // The first `limit` pending entries in seq order (Store::pending).
  std::vector<OutboxEntry> pending(std::size_t limit, OutboxData data) const;
  StoreSummary summary() const;
  // Likewise behind Store::households() and Store::visits_to() (store_views.cpp).
  // `only_id` set: that household only (query empty).
  std::vector<HouseholdView> households(const std::string& query, std::size_t limit, std::size_t offset,
                                        const std::optional<std::string>& only_id = std::nullopt) const;
  std::int64_t count_households(const std::string& query) const;
  std::vector<StoredRecord> visits_to(const std::string& household_id) const;
  DueList work_due(const std::string& today, std::size_t limit) const;

  std::optional<StoredRecord> find(Entity entity, const std::string& id) const {
    auto statement = db.cached(kFindRecord);
    statement->bind(1, safer::to_string(entity)).bind(2, id);
    if (!statement->step()) return std::nullopt;
    return read_record(*statement);
  }

  // Binds a visit's household_id, visited_at, status and follow_up from `first` on (NULLs and
  // 0 for anything else), for the list views' index.
  static void bind_visit_columns(sqlite::Statement& statement, int first, const std::optional<RecordData>& data) {
    const auto* visit = data ? std::get_if<safer::Visit>(&*data) : nullptr;
    if (visit == nullptr) {
      statement.bind_null(first).bind_null(first + 1).bind_null(first + 2).bind(first + 3, 0);
      return;
    }
    statement.bind(first, visit->household_id).bind(first + 1, safer::format_rfc3339(visit->visited_at));
    statement.bind(first + 2, safer::to_string(visit->status)).bind(first + 3, visit->has(safer::Outcome::follow_up_required) ? 1 : 0);
  }

  // Writes one new version of a record and its outbox entry. Must run inside a transaction.
  // `stored` is what the device keeps; `sent` is what the server is sent (they differ only
  // for households edited by an officer, whose server-owned fields are left out).
  void write_version(Entity entity, const std::string& id, Op op, const std::optional<RecordData>& stored,
                     const std::optional<RecordData>& sent, const std::optional<Hlc>& previous, bool created) {
    safer::HlcClock clock(wall_clock, Hlc::parse(meta("hlc_last").value_or("")).value_or(Hlc{}));
    if (previous) clock.observe(*previous);
    const Hlc hlc = clock.tick();
    const std::int64_t seq = std::stoll(meta("last_seq").value_or("0")) + 1;
    const std::string hlc_text = hlc.to_string();
    const std::string entity_name(safer::to_string(entity));

    auto upsert = db.cached(
        "INSERT INTO records (entity, id, hlc, device_id, deleted, data, created_here,"
        " household_id, visited_at, status, follow_up) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id,"
        " deleted = excluded.deleted, data = excluded.data, household_id = excluded.household_id,"
        " visited_at = excluded.visited_at, status = excluded.status, follow_up = excluded.follow_up");
    upsert->bind(1, entity_name).bind(2, id).bind(3, hlc_text).bind(4, device_id());
    upsert->bind(5, op == Op::remove ? 1 : 0).bind(7, created ? 1 : 0);
    if (stored) upsert->bind(6, safer::to_json(*stored)); else upsert->bind_null(6);
    bind_visit_columns(*upsert, 8, stored);
    upsert->run();

    auto queue = db.cached(
        "INSERT INTO outbox (seq, entity, op, record_id, hlc, data, state, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)");
    queue->bind(1, seq).bind(2, entity_name).bind(3, safer::to_string(op)).bind(4, id).bind(5, hlc_text);
    if (sent) queue->bind(6, safer::to_json(*sent)); else queue->bind_null(6);
    queue->bind(7, wall_clock());
    queue->run();

    set_meta("last_seq", std::to_string(seq));
    set_meta("hlc_last", hlc_text);
  }

  // Applies the permission table of protocol.md §5.7 as far as the device knows its role, and
  // returns what to send for a household (server-owned fields left out for officers).
  Result<Household> household_to_send(const Household& household, const std::optional<StoredRecord>& existing) {
    if (is_coordinator()) return household;
    const Household* before = existing && existing->data ? std::get_if<Household>(&*existing->data) : nullptr;
    const bool target_before = before != nullptr && before->is_target();
    const auto assignee_before = before != nullptr ? before->assignee() : std::nullopt;
    if (household.target && *household.target != target_before) {
      return forbidden("target", "only a coordinator may change target");
    }
    if (household.assigned_to && *household.assigned_to != assignee_before) {
      return forbidden("assigned_to", "only a coordinator may set or change assigned_to");
    }
    Household sent = household;
    sent.target.reset();
    sent.assigned_to.reset();
    return sent;
  }
};


}  // namespace field_client
