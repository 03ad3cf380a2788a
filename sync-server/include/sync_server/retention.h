// The retention policy (issue 14 §3, docs/server.md "Retention"): how long the server keeps
// visits, their notes, Commute Aware sessions, tombstones and audit entries, and the purge
// that applies it (`sync-server purge`, and `serve` once a day).
//
// Invariants, kept by Retention::run():
//  1. Erasing a visit or a session, or blanking a visit's notes, is a new version written as
//     a coordinator's change (device "retention") in a write group: the feed sends it to the
//     tablets, and the statistics take the erased record away in the same transaction.
//  2. Every tombstone and exit compacted away lies at or before the store's compaction
//     horizon (meta "compacted_through"), and the horizon is moved before anything is
//     removed: a pull whose cursor lies before it is refused with cursor_invalid (pull.cpp),
//     so no pull ever skips a compacted tombstone.
//  3. Household tombstones are never compacted: they keep an erased household erased
//     (apply.cpp refuses writes to it with "erased").
//
// Thread safety: as the ServerStore it works on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "safer/result.h"
#include "safer/time.h"
#include "sync_server/server_store.h"

namespace sync_server {

// An age written as "<N>d" (days), "<N>y" (calendar years) or "never".
struct RetentionAge {
  enum class Unit { days, years };
  std::optional<std::int64_t> count;  // nullopt: never
  Unit unit = Unit::days;

  static RetentionAge days(std::int64_t n) { return {n, Unit::days}; }
  static RetentionAge years(std::int64_t n) { return {n, Unit::years}; }
  static RetentionAge never() { return {std::nullopt, Unit::days}; }

  // Error "invalid" naming `setting` for anything else than the three forms above (N from 0
  // to 36500 days or 100 years).
  static Result<RetentionAge> parse(std::string_view text, const std::string& setting);
  std::string to_string() const;
  // The instant `now` minus this age (a year back is the same date and time a calendar year
  // earlier, UTC; 29 February goes to the 28th); nullopt for never.
  std::optional<safer::UnixMillis> cutoff(safer::UnixMillis now) const;
  // Comparable lengths: days, a year as 366 (the longest), never as the greatest.
  std::int64_t longest_days() const;
};

struct RetentionPolicy {
  RetentionAge visits = RetentionAge::years(6);            // a visit is erased (tombstone, no data)
  RetentionAge notes = RetentionAge::years(3);             // a visit's notes are blanked
  RetentionAge commute_sessions = RetentionAge::years(6);  // a session is erased
  RetentionAge tombstones = RetentionAge::days(90);        // visit and session tombstones, and exits, compacted
  RetentionAge audit = RetentionAge::years(6);             // audit entries purged (anchor kept)

  // "visits=6y notes=3y commute_sessions=6y tombstones=90d audit=6y": how it is stored (meta)
  // and shown.
  std::string to_string() const;
  // Reads to_string()'s form; settings not named keep their defaults. Error "invalid" naming
  // the setting for an unknown name or a bad age, and for check()'s problems.
  static Result<RetentionPolicy> parse(std::string_view text);
  // Error "invalid" naming the setting: notes kept longer than visits (they go with them),
  // and any age of 0 but tombstones' (0d there compacts at every run: for tests).
  Status check() const;
};

// What a purge did (or, dry, would do).
struct PurgeCounts {
  std::int64_t notes_blanked = 0;
  std::int64_t visits_erased = 0;
  // Live visits of households already erased: left by versions before erasure took a
  // household's visits with it. Every run erases them, whatever the policy.
  std::int64_t orphans_erased = 0;
  std::int64_t sessions_erased = 0;
  std::int64_t tombstones_compacted = 0;
  std::int64_t exits_compacted = 0;
  std::int64_t audit_removed = 0;
  // "notes_blanked=N visits_erased=N …": the audit entry's detail and the log line's fields.
  std::string to_string() const;
};

class Retention {
 public:
  explicit Retention(ServerStore& store) : store_(store) {}

  // The policy kept in the store (the defaults above if none was set).
  Result<RetentionPolicy> policy();
  // Keeps `policy` in the store for every command and server on it; audited
  // (retention_change) by `by`. Error "invalid" if policy.check() refuses it (nothing saved).
  Status set_policy(const RetentionPolicy& policy, const Actor& by = {});

  // Applies the store's policy at the store's wall clock, in batches of `batch` records, each
  // batch a write group of its own (so that a large purge lets pushes commit between batches),
  // then appends one retention_purge entry with the counts (never any data), by `by`. The
  // steps: notes, visits, sessions, tombstones and exits, audit entries (AuditLog::purge_before,
  // which appends its own audit_purge entry). With `dry_run` nothing is written but the entry
  // (detail "dry_run=1 …") and the counts are what a run would do now. A failure leaves what
  // earlier batches did (each is whole) and is returned; the entry records its error code.
  Result<PurgeCounts> run(bool dry_run, const Actor& by = {}, int batch = 500);

  // Ok if removing audit entries older than `before` stays within the policy: error "invalid"
  // naming --before when `before` is after now minus the policy's audit age.
  Status check_audit_purge(safer::UnixMillis before);

 private:
  class Purge;  // one run's steps (retention.cpp)
  ServerStore& store_;
};

}  // namespace sync_server
