// Internal to the server store: its state, shared by server_store.cpp (schema, devices),
// apply.cpp (push), pull.cpp and stats.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include <variant>

#include "safer/hlc.h"
#include "safer/household.h"
#include "sync_server/audit.h"
#include "sync_server/db.h"
#include "sync_server/server_store.h"
#include "wal_checkpointer.h"

namespace sync_server {

// The smallest HLC after `hlc`.
inline safer::Hlc hlc_after(safer::Hlc hlc) {
  if (hlc.counter < safer::Hlc::kMaxCounter) return {hlc.millis, hlc.counter + 1};
  return {hlc.millis + 1, 0};
}

// A range's ends as the text the tables' local days compare with: "" and "9999-12-31" for
// open ends (ISO dates compare as text).
inline std::string first_day_text(const std::optional<safer::CivilDate>& date) {
  return date ? safer::format_iso_date(*date) : std::string();
}
inline std::string last_day_text(const std::optional<safer::CivilDate>& date) {
  return date ? safer::format_iso_date(*date) : std::string("9999-12-31");
}

// Bounds on visited_at (RFC 3339 UTC, compared as text) holding every instant whose local day
// is in a range, whatever the time zone (its offset is under a day): from the day before the
// first, to before the day after next of the last; "" and "~" for open ends. `records` has no
// index on local_day (issue 17): a query adds these so that an index on visited_at finds the
// candidates, and still compares local_day for the exact range.
inline std::string visited_from_text(const std::optional<safer::CivilDate>& date) {
  if (!date) return std::string();
  const auto day = safer::days_from_civil(*date) - 1;
  return day < safer::days_from_civil({0, 1, 1}) ? std::string() : safer::format_iso_date(safer::civil_from_days(day));
}
inline std::string visited_before_text(const std::optional<safer::CivilDate>& date) {
  if (!date) return std::string("~");  // after every digit
  const auto day = safer::days_from_civil(*date) + 2;
  return day > safer::days_from_civil({9999, 12, 31}) ? std::string("~") : safer::format_iso_date(safer::civil_from_days(day));
}

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

// A row of visit_totals or visit_month_totals: visits, then the six outcomes in
// safer::Outcome order, then smoke detectors fitted; and its key: day or month, ward, status.
// visits, the six outcomes, smoke detectors, referred visits, and those by share basis
// (consent, vital_interests, safeguarding): visit_totals' columns after its key.
using VisitTotals = std::array<std::int64_t, 12>;
using VisitTotalsKey = std::tuple<std::string, std::string, std::string>;
// A row of answer_totals or answer_month_totals by its key: day or month, ward, question, and
// answer (1..5 for a scale, 0 for the other kinds); its value counts visits.
using AnswerKey = std::tuple<std::string, std::string, std::string, std::int64_t>;

struct ServerStore::Impl {
  explicit Impl(std::unique_ptr<db::Database> database) : owned_db(std::move(database)), db(*owned_db) {}

  std::unique_ptr<db::Database> owned_db;
  db::Database& db;
  StoreOptions options;
  std::string epoch;  // Constant after open(): names this store in cursors.

  // State of the open write group (begin_group .. commit_group).
  std::optional<db::Transaction> group;
  std::int64_t last_version = 0;  // the greatest records.version given out
  safer::Hlc server_hlc;          // the greatest HLC applied, for the server's own writes
  safer::Hlc server_hlc_at_begin;  // server_hlc as the group found it
  bool group_wrote = false;        // whether the group wrote any record

  std::optional<std::string> meta(const char* key);

  // audit.cpp: appends `entry` to the audit trail at the wall clock's time, taking the chain's
  // head lock (PostgreSQL: the audit_head row, until the transaction ends). Call it last in a
  // transaction, after the changes it records, so that row locks are always taken in the same
  // order. REQUIRES: a write transaction is open on `db`. Throws db::Failure.
  void append_audit(const AuditEntry& entry);

  // server_store.cpp: enrols `device` (a new token, which it returns; an earlier one stops
  // working), with its `enroll` audit entry by `by` (`detail` follows the role in it), inside
  // the caller's transaction. Throws db::Failure.
  std::string enroll_device(const DeviceIdentity& device, const Actor& by, const std::string& detail);
  // An `assign` entry: `household` now belongs to `assignee` (nullopt: to nobody).
  void append_assignment(const Actor& by, const std::string& household, const std::optional<std::string>& assignee);
  // What the dashboard polls to see that something changed (GET /api/v1/version): the newest
  // records.version on SQLite, the number of commits that wrote records on PostgreSQL.
  std::int64_t feed_version();
  // retention.cpp: the last place in the feed (xid, version; xid 0 on SQLite) at or before
  // which tombstones and exits may have been compacted away; (0, 0) if none ever were. A pull
  // from a cursor before it must be refused (cursor_invalid).
  std::pair<std::uint64_t, std::int64_t> compaction_horizon();
  // PostgreSQL: a new epoch when the database was restored (see server_store.cpp).
  void renew_epoch_after_restore();
  void set_meta(const char* key, const std::string& value);

  // Reads a record inside the write group, locking its row on PostgreSQL (SQLite's one
  // writer needs no row locks): `update` for a record about to be written, `share` for a
  // household that a visit refers to.
  enum class RowLock { update, share };
  std::optional<StoredRow> find_row(safer::Entity entity, const std::string& id, RowLock lock = RowLock::update);

  // PostgreSQL: a push's records, and the households its visits refer to, read and locked by
  // two statements before its changes are applied, rather than one round trip each. A record
  // read so is given once, to the first find_row() (update) that asks for it, which is the
  // change's own or one that writes it first (a household's move or erasure of its visits):
  // every write of a record in a group follows its find_row(), so a later one reads it again.
  // Households go into households_seen. Dropped after the push (push_done()).
  void prefetch_rows(const safer::ReceivedPush& push, std::int64_t acked);
  std::map<std::pair<safer::Entity, std::string>, std::optional<StoredRow>> prefetched;

  // PostgreSQL, while apply_batch() applies a push: the rows its visits and commute sessions
  // write, kept and written by two statements when the push ends (write_pending_records(): an
  // INSERT of the new records, an UPDATE of those it replaces) instead of one each. find_row()
  // gives a record's pending version. A household's change writes them first, and itself at
  // once: its move or erasure reads and writes its visits' rows, and its exits read its own.
  struct RecordWrite {
    std::array<db::Cell, 17> cells;  // write_record()'s columns, in its statement's order
    std::optional<std::pair<std::string, std::string>> replaces;  // (hlc, device_id); none: new
    StoredRow stored_row() const;  // as find_row() would read it once written
  };
  bool buffer_records = false;
  std::map<std::pair<safer::Entity, std::string>, RecordWrite> pending_records;
  void write_pending_records();
  // The state of one push (above): dropped when it ends or its group is abandoned.
  void push_done() {
    prefetched.clear();
    pending_records.clear();
    buffer_records = false;
  }

  // Households as visits of this write group found them (most of a batch's visits are to a
  // few households): find_household() reads through it; a household's own change drops its
  // entry, and begin_group()/abandon_group() the lot.
  std::map<std::string, std::optional<StoredRow>> households_seen;
  const std::optional<StoredRow>& find_household(const std::string& id);

  // Replaces options.lists.questions with those stored by set_questions(), if any
  // (questions.cpp). Throws db::Failure when they cannot be read.
  void load_questions();

  // Gives rows written before records.local_day existed their local day (see migration 2).
  void fill_local_days();

  // apply.cpp
  PushOutcome apply_batch(const DeviceIdentity& device, const safer::ReceivedPush& push,
                          const std::vector<std::string>& prepared, const std::string& credential,
                          safer::WriterRules rules);
  // Whose clock stamped a change: a device's is checked for skew (protocol.md §3); the
  // server's own (the register import) follows the greatest HLC applied, which may itself be
  // up to the allowed skew ahead, and is not.
  enum class Stamp { device, server };
  // `encoded` is to_json(*change.data) if made ahead (ServerStore::prepare_push), else empty.
  // `by`: who an erasure's audit entry names (a dashboard login); nullptr: the device.
  std::optional<safer::Rejection> apply_change(const DeviceIdentity& device, const safer::Change& change,
                                               bool& applied, Stamp stamp = Stamp::device,
                                               const std::string& encoded = {},
                                               safer::WriterRules rules = safer::WriterRules::protocol1(),
                                               const Actor* by = nullptr);
  // apply_change()'s steps (apply.cpp).
  struct Admitted;
  std::variant<safer::Rejection, Admitted> admit(const DeviceIdentity& device, const safer::Change& change,
                                                 const std::optional<StoredRow>& current, safer::WriterRules rules);
  std::variant<safer::Rejection, Admitted> admit_household(const DeviceIdentity& device, const safer::Change& change,
                                                           const std::optional<StoredRow>& current);
  std::variant<safer::Rejection, Admitted> admit_visit(const DeviceIdentity& device, const safer::Change& change,
                                                       const std::optional<StoredRow>& current,
                                                       safer::WriterRules rules);
  void recount(const safer::Change& change, const std::optional<StoredRow>& current, const Admitted& admitted);
  void write_record(const DeviceIdentity& device, const safer::Change& change, const std::optional<StoredRow>& current,
                    const Admitted& admitted, const std::string& encoded);
  void move_visits_with(const std::string& household_id, const StoredRow& before, const Admitted& after);

  // erase.cpp. The users whose scope holds a household row (none for a tombstone): its
  // assignee, or while it has none its creator (protocol.md §4.4).
  static std::vector<std::string> scope_holders(const std::optional<StoredRow>& household);
  // Makes every live visit of the household a tombstone without data, taking it out of the
  // statistics; each tombstone's HLC is past both `erased_at` and the visit's own.
  // Returns how many visits it erased.
  std::size_t erase_visits_of(const std::string& household_id, const DeviceIdentity& device, safer::Hlc erased_at);
  // Writes an exit for each user who held the household before this version and does not
  // after it. REQUIRES: the household's new version is written.
  void record_exits(const std::string& household_id, const std::optional<StoredRow>& before,
                    const std::vector<std::string>& holders_after);

  // referrals.cpp. Makes the visit's rows in `referrals` those of `visit` (nullptr: a deleted or
  // erased visit, none): a row per partner it refers to, with its household, local day, `ward`
  // and share basis. A partner the visit still refers to keeps its sent state. Written by
  // flush_referrals() when the group commits, not now (see there). `stored`: the visit has a
  // row in `records` (false for a new one, which can have no referrals yet).
  void keep_referrals(const std::string& visit_id, const safer::Visit* visit, const std::string& ward, bool stored);
  // The rows keep_referrals() wants for a visit, by visit id: the last call for a visit wins.
  struct WantedReferrals {
    std::vector<std::string> partners;  // none: the visit's rows go
    std::string household_id, day, ward, basis;
    bool stored = true;  // false: the visit has none yet, so none to read and delete
  };
  std::map<std::string, WantedReferrals> pending_referrals;
  // Writes pending_referrals in the order of the referral_totals rows their triggers change
  // (day, partner), so that two writers' groups wait for each other rather than deadlock.
  void flush_referrals();

  // stats.cpp: statistics contributions of one version, added (sign +1) or taken away (-1).
  void count_visit(const safer::Visit& visit, const std::string& ward, int sign);
  void count_session(const safer::CommuteSession& session, int sign);
  void count_target(const std::string& household_id, int sign);
  // A household's vulnerabilities changed (`before` and `after` are EnumSet bits, 0 for none or
  // no live record): its years in household_years move to the other group of year_groups.
  void regroup_household(const std::string& household_id, std::uint32_t before, std::uint32_t after);

  // What count_visit() adds up over an open write group, written to the statistics tables
  // by flush_counts() in the group's transaction before it commits. A group of many visits on few
  // days, wards and households then costs a few statements, not several per visit.
  std::map<VisitTotalsKey, VisitTotals> pending_days, pending_months;
  std::map<std::pair<std::string, std::string>, std::int64_t> pending_household_days;  // household, day
  std::map<std::pair<std::string, int>, std::int64_t> pending_household_years;         // household, year
  // year_groups: (year, vulnerability bits) -> (households, completed visits) to add.
  std::map<std::pair<int, std::uint32_t>, std::pair<std::int64_t, std::int64_t>> pending_groups;
  // Answers (protocol.md §5.8) for answer_totals and answer_month_totals.
  std::map<AnswerKey, std::int64_t> pending_answer_days, pending_answer_months;
  void flush_counts();
  void drop_counts();

  // tune_writer(): last, so that it stops before the connection closes.
  std::unique_ptr<WalCheckpointer> checkpointer;
};

// Runs `body` (returning a Result) in one write group: begin_group(), then commit_group() if
// it succeeded or abandon_group() if it returned an error. A group that met another server's
// transaction (a retryable db::Failure, PostgreSQL) kept nothing and runs again, at most
// ServerStore::kGroupAttempts times in all; then, or for any other failure, the failure's
// error is returned.
template <class Body>
auto in_write_group(ServerStore& store, Body&& body) -> decltype(body()) {
  for (int attempt = 1;; ++attempt) {
    try {
      store.begin_group();
      auto result = body();
      if (result) {
        store.commit_group();
      } else {
        store.abandon_group();
      }
      return result;
    } catch (const db::Failure& failure) {
      store.abandon_group();
      if (!failure.retryable() || attempt == ServerStore::kGroupAttempts) return failure.error();
    }
  }
}

// The vulnerabilities in a household's `vulnerability` array as json_extract() gives it in
// `column` (`["elderly","lives_alone"]`; PostgreSQL's has spaces); none for NULL (stats.cpp).
safer::EnumSet<safer::Vulnerability> vulnerabilities_in(const db::Statement& row, int column);

}  // namespace sync_server
